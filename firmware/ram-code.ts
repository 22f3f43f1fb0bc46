// Functions whose code is in RAM. A function loaded from a Storage file points into that file, so writing the file
// (an upload over the running module) leaves it with no code ("Function code is null"); one compiled from a string
// made at run time keeps working. For what must outlive the module's file: the console capture's listeners and the
// wrappers it puts in place of built-ins.

/** The value of the expression `source`, compiled in the global scope from a copy of it in RAM. */
export function ramCode(source: string): any {
  return new Function("return " + source)();
}
