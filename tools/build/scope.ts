// Which declaration every identifier in a bundle refers to, and when the code containing it runs.
// The gate needs this to tell a global `Map` from a local one, to find `let` loop variables captured by
// closures, and to find calls that only work if function declarations are hoisted (Espruino does not hoist).

import type * as acorn from "acorn";

export type BindingKind = "var" | "let" | "const" | "function" | "class" | "param" | "catch" | "self";

export interface Binding {
  name: string;
  kind: BindingKind;
  /** The declaring identifier. */
  id: acorn.Identifier;
  /** The declaration: FunctionDeclaration for functions, the declarator, parameter owner, class, or catch clause. */
  declaration: acorn.AnyNode;
  scope: Scope;
  /** The `for` statement whose header declares this `let`/`const`. */
  loop?: acorn.ForStatement | acorn.ForInStatement | acorn.ForOfStatement;
}

/**
 * A unit of execution: the program, a function (or class field initializer) body. Code directly in it runs
 * when it runs; code in nested functions runs when those are called. A function invoked on the spot
 * (an IIFE) belongs to its surroundings' unit.
 */
export type Execution = acorn.AnyNode;

export interface Scope {
  parent: Scope | null;
  node: acorn.AnyNode;
  /** A function or program scope (where `var` lands); blocks and catch clauses are not. */
  isFunction: boolean;
  execution: Execution;
  bindings: Map<string, Binding>;
}

export interface Reference {
  id: acorn.Identifier;
  parent: acorn.AnyNode;
  scope: Scope;
  execution: Execution;
  /** Undefined when the name is not declared anywhere in the code: a global. */
  binding?: Binding;
}

export interface ScopeAnalysis {
  references: Reference[];
  /** Identifier nodes (in expression position) that refer to globals. */
  globals: Set<acorn.AnyNode>;
  /** References grouped by the execution unit they run in. */
  referencesByExecution: Map<Execution, Reference[]>;
}

type FunctionNode = acorn.FunctionDeclaration | acorn.AnonymousFunctionDeclaration | acorn.FunctionExpression | acorn.ArrowFunctionExpression;
type ClassNode = acorn.ClassDeclaration | acorn.AnonymousClassDeclaration | acorn.ClassExpression;
type Loop = acorn.ForStatement | acorn.ForInStatement | acorn.ForOfStatement;

function isLoop(node: acorn.AnyNode | undefined): node is Loop {
  return node?.type === "ForStatement" || node?.type === "ForInStatement" || node?.type === "ForOfStatement";
}

/** `(function(){…})()`, `(() => …)()`, `new function(){…}`, `(function(){…}).call(…)`. */
function isImmediatelyInvoked(fn: acorn.AnyNode, ancestors: acorn.AnyNode[]): boolean {
  const parent = ancestors[ancestors.length - 1];
  if ((parent?.type === "CallExpression" || parent?.type === "NewExpression") && parent.callee === fn) return true;
  const grandparent = ancestors[ancestors.length - 2];
  return (
    parent?.type === "MemberExpression" &&
    parent.object === fn &&
    !parent.computed &&
    parent.property.type === "Identifier" &&
    (parent.property.name === "call" || parent.property.name === "apply") &&
    grandparent?.type === "CallExpression" &&
    grandparent.callee === parent
  );
}

/** Node fields that never hold child nodes; skipping them keeps the walk cheap on large bundles. */
const LEAF_FIELDS = new Set(["type", "start", "end", "loc", "range", "name", "raw", "regex", "bigint", "operator",
  "prefix", "kind", "computed", "static", "method", "shorthand", "generator", "async", "directive",
  "sourceType", "optional", "delegate", "await", "tail"]);

function childNodes(node: acorn.AnyNode): acorn.AnyNode[] {
  const children: acorn.AnyNode[] = [];
  const fields = node as unknown as Record<string, unknown>;
  for (const key in fields) {
    if (LEAF_FIELDS.has(key)) continue;
    const value = fields[key] as acorn.AnyNode | acorn.AnyNode[] | null;
    if (Array.isArray(value)) {
      for (const item of value) if (item && typeof item.type === "string") children.push(item);
    } else if (value && typeof value === "object" && typeof value.type === "string") {
      children.push(value);
    }
  }
  return children;
}

export function analyzeScopes(program: acorn.Program): ScopeAnalysis {
  const references: Reference[] = [];
  const ancestors: acorn.AnyNode[] = [];

  function newScope(parent: Scope | null, node: acorn.AnyNode, isFunction: boolean, execution: Execution): Scope {
    return { parent, node, isFunction, execution, bindings: new Map() };
  }

  function functionScope(scope: Scope): Scope {
    let current = scope;
    while (!current.isFunction && current.parent) current = current.parent;
    return current;
  }

  function declare(scope: Scope, id: acorn.Identifier, kind: BindingKind, declaration: acorn.AnyNode, loop?: Loop): void {
    const binding: Binding = { name: id.name, kind, id, declaration, scope };
    if (loop) binding.loop = loop;
    // A later `function f` replaces an earlier one; a `var` never replaces a function of the same name.
    const existing = scope.bindings.get(id.name);
    if (existing && existing.kind === "function" && kind === "var") return;
    scope.bindings.set(id.name, binding);
  }

  function declarePattern(
    pattern: acorn.AnyNode,
    target: Scope,
    walkScope: Scope,
    kind: BindingKind,
    declaration: acorn.AnyNode,
    loop?: Loop,
  ): void {
    switch (pattern.type) {
      case "Identifier":
        declare(target, pattern, kind, declaration, loop);
        return;
      case "ObjectPattern":
        for (const property of pattern.properties) {
          if (property.type === "RestElement") {
            declarePattern(property.argument, target, walkScope, kind, declaration, loop);
          } else {
            if (property.computed) visit(property.key, walkScope, pattern);
            declarePattern(property.value, target, walkScope, kind, declaration, loop);
          }
        }
        return;
      case "ArrayPattern":
        for (const element of pattern.elements) {
          if (element) declarePattern(element, target, walkScope, kind, declaration, loop);
        }
        return;
      case "AssignmentPattern":
        declarePattern(pattern.left, target, walkScope, kind, declaration, loop);
        visit(pattern.right, walkScope, pattern);
        return;
      case "RestElement":
        declarePattern(pattern.argument, target, walkScope, kind, declaration, loop);
        return;
      default:
        // Member expressions are only legal as assignment targets, never in declarations.
        visit(pattern, walkScope, declaration);
    }
  }

  function visitFunction(fn: FunctionNode, scope: Scope): void {
    const execution = fn.type !== "FunctionDeclaration" && isImmediatelyInvoked(fn, ancestors) ? scope.execution : fn;
    const inner = newScope(scope, fn, true, execution);
    if (fn.type === "FunctionExpression" && fn.id) declare(inner, fn.id, "self", fn);
    ancestors.push(fn);
    for (const param of fn.params) declarePattern(param, inner, inner, "param", fn);
    if (fn.body.type === "BlockStatement") {
      ancestors.push(fn.body);
      for (const statement of fn.body.body) visit(statement, inner, fn.body);
      ancestors.pop();
    } else {
      visit(fn.body, inner, fn);
    }
    ancestors.pop();
  }

  function visitClass(node: ClassNode, scope: Scope): void {
    let classScope = scope;
    if (node.type === "ClassExpression" && node.id) {
      classScope = newScope(scope, node, false, scope.execution);
      declare(classScope, node.id, "self", node);
    }
    ancestors.push(node);
    if (node.superClass) visit(node.superClass, scope, node);
    ancestors.push(node.body);
    for (const element of node.body.body) {
      if (element.type === "StaticBlock") {
        const blockScope = newScope(classScope, element, true, classScope.execution);
        ancestors.push(element);
        for (const statement of element.body) visit(statement, blockScope, element);
        ancestors.pop();
        continue;
      }
      ancestors.push(element);
      if (element.computed) visit(element.key, classScope, element);
      if (element.value) {
        // An instance field initializer runs when an instance is made; a static one runs now.
        const deferred = element.type === "PropertyDefinition" && !element.static;
        const valueScope = deferred ? newScope(classScope, element, true, element) : classScope;
        visit(element.value, valueScope, element);
      }
      ancestors.pop();
    }
    ancestors.pop();
    ancestors.pop();
  }

  function visitStatements(statements: acorn.AnyNode[], scope: Scope, parent: acorn.AnyNode): void {
    ancestors.push(parent);
    for (const statement of statements) visit(statement, scope, parent);
    ancestors.pop();
  }

  function visit(node: acorn.AnyNode, scope: Scope, parent: acorn.AnyNode): void {
    switch (node.type) {
      case "Identifier":
        references.push({ id: node, parent, scope, execution: scope.execution });
        return;
      case "FunctionDeclaration":
        if (node.id) declare(scope, node.id, "function", node);
        visitFunction(node, scope);
        return;
      case "FunctionExpression":
      case "ArrowFunctionExpression":
        visitFunction(node, scope);
        return;
      case "ClassDeclaration":
        if (node.id) declare(scope, node.id, "class", node);
        visitClass(node, scope);
        return;
      case "ClassExpression":
        visitClass(node, scope);
        return;
      case "VariableDeclaration": {
        const target = node.kind === "var" ? functionScope(scope) : scope;
        const loop = node.kind !== "var" && isLoop(parent) && (parent.type === "ForStatement" ? parent.init : parent.left) === node ? parent : undefined;
        ancestors.push(node);
        for (const declarator of node.declarations) {
          ancestors.push(declarator);
          const kind = node.kind === "var" || node.kind === "let" ? node.kind : "const";
          declarePattern(declarator.id, target, scope, kind, declarator, loop);
          if (declarator.init) visit(declarator.init, scope, declarator);
          ancestors.pop();
        }
        ancestors.pop();
        return;
      }
      case "BlockStatement":
        visitStatements(node.body, newScope(scope, node, false, scope.execution), node);
        return;
      case "StaticBlock":
        visitStatements(node.body, newScope(scope, node, true, scope.execution), node);
        return;
      case "ForStatement":
      case "ForInStatement":
      case "ForOfStatement":
        visitStatements(childNodes(node), newScope(scope, node, false, scope.execution), node);
        return;
      case "SwitchStatement": {
        ancestors.push(node);
        visit(node.discriminant, scope, node);
        const casesScope = newScope(scope, node, false, scope.execution);
        for (const switchCase of node.cases) visit(switchCase, casesScope, node);
        ancestors.pop();
        return;
      }
      case "CatchClause": {
        const catchScope = newScope(scope, node, false, scope.execution);
        if (node.param) declarePattern(node.param, catchScope, catchScope, "catch", node);
        ancestors.push(node);
        visit(node.body, catchScope, node);
        ancestors.pop();
        return;
      }
      case "MemberExpression":
        ancestors.push(node);
        visit(node.object, scope, node);
        if (node.computed) visit(node.property, scope, node);
        ancestors.pop();
        return;
      case "Property":
        ancestors.push(node);
        if (node.computed) visit(node.key, scope, node);
        visit(node.value, scope, node);
        ancestors.pop();
        return;
      case "LabeledStatement":
        ancestors.push(node);
        visit(node.body, scope, node);
        ancestors.pop();
        return;
      case "BreakStatement":
      case "ContinueStatement":
      case "MetaProperty":
      case "PrivateIdentifier":
        return;
      default:
        visitStatements(childNodes(node), scope, node);
    }
  }

  const programScope = newScope(null, program, true, program);
  visitStatements(program.body, programScope, program);

  const globals = new Set<acorn.AnyNode>();
  const referencesByExecution = new Map<Execution, Reference[]>();
  for (const reference of references) {
    for (let scope: Scope | null = reference.scope; scope; scope = scope.parent) {
      const binding = scope.bindings.get(reference.id.name);
      if (binding) {
        reference.binding = binding;
        break;
      }
    }
    if (!reference.binding) globals.add(reference.id);
    const group = referencesByExecution.get(reference.execution);
    if (group) group.push(reference);
    else referencesByExecution.set(reference.execution, [reference]);
  }
  return { references, globals, referencesByExecution };
}

/** True when `reference` sits in a function, created inside `binding`'s scope, that may run later. */
export function crossesDeferredFunction(reference: Reference, binding: Binding): boolean {
  return reference.execution !== binding.scope.execution;
}
