// `pstore completion bash|zsh`: a shell completion script, made from the commands' own option tables, so it
// completes exactly what the parser accepts: subcommands, their options, board names after --board, serial
// devices and the tcp:// and ble: schemes after --port, file names where a path is wanted.

import { boardNames } from "../../boards/index";
import { UsageError, ExitCode } from "./errors";
import type { Command } from "./command";

const SHELLS = ["bash", "zsh"] as const;
/** Options whose value is a path. */
const PATH_OPTIONS = ["--out", "--dist", "--image"];
const PORT_GLOBS = "/dev/ttyACM* /dev/ttyUSB* /dev/rfcomm* /dev/tty.usb*";

function optionWords(command: Command): string[] {
  return [...Object.entries(command.options).flatMap(([name, spec]) => [`--${name}`, ...(spec.short ? [`-${spec.short}`] : [])]), "--help"];
}

function bashScript(commands: Command[]): string {
  const cases = commands.map((c) => `    ${c.name}) words="${optionWords(c).join(" ")}" ;;`).join("\n");
  return `# pstore completion for bash. Load it with: eval "$(pstore completion bash)"
# or install it: pstore completion bash > ~/.local/share/bash-completion/completions/pstore
_pstore() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} words
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${commands.map((c) => c.name).join(" ")} help --help --version" -- "$cur"))
    return
  fi
  case "$prev" in
    --board|-b) COMPREPLY=($(compgen -W "${boardNames().join(" ")}" -- "$cur")); return ;;
    --port|-p) COMPREPLY=($(compgen -W "$(ls ${PORT_GLOBS} 2>/dev/null) tcp:// ble://" -- "$cur")); return ;;
    ${PATH_OPTIONS.join("|")}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  case "\${COMP_WORDS[1]}" in
${cases}
    *) words="" ;;
  esac
  if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$words" -- "$cur")); else COMPREPLY=($(compgen -f -- "$cur")); fi
}
complete -F _pstore pstore
`;
}

function zshScript(commands: Command[]): string {
  const quote = (text: string) => `'${text.replace(/'/g, "'\\''")}'`;
  const described = commands.map((c) => quote(`${c.name}:${c.summary.replace(/:/g, "\\:")}`)).join(" ");
  const cases = commands.map((c) => `    ${c.name}) compadd -- ${optionWords(c).join(" ")} ;;`).join("\n");
  return `#compdef pstore
# pstore completion for zsh. Load it with: source <(pstore completion zsh)
# or install it as _pstore in a folder of $fpath: pstore completion zsh > ~/.zfunc/_pstore
_pstore() {
  local -a commands
  commands=(${described})
  if (( CURRENT == 2 )); then
    _describe command commands
    return
  fi
  case $words[CURRENT-1] in
    --board|-b) compadd -- ${boardNames().join(" ")}; return ;;
    --port|-p) compadd -- ${PORT_GLOBS.split(" ").map((glob) => `${glob}(N)`).join(" ")} tcp:// ble://; return ;;
    ${PATH_OPTIONS.join("|")}) _files; return ;;
  esac
  if [[ $PREFIX != -* ]]; then
    _files
    return
  fi
  case $words[2] in
${cases}
  esac
}
compdef _pstore pstore
`;
}

export function completionCommand(commands: () => Command[]): Command {
  return {
    name: "completion",
    summary: "print a shell completion script (bash or zsh)",
    help: `Usage: pstore completion bash|zsh

Prints a completion script for the shell: subcommands, their options, board names after --board,
serial devices and the tcp:// and ble: schemes after --port, file names for paths.

  bash:  eval "$(pstore completion bash)"  (in ~/.bashrc), or
         pstore completion bash > ~/.local/share/bash-completion/completions/pstore
  zsh:   source <(pstore completion zsh)  (in ~/.zshrc, after compinit), or
         pstore completion zsh > ~/.zfunc/_pstore  (with ~/.zfunc in $fpath)

Exit codes: 0 printed; 2 bad command line or a shell other than bash and zsh.
`,
    options: {},
    positionals: ["shell"],
    async run({ positionals }, io) {
      const shell = positionals[0];
      if (!(SHELLS as readonly string[]).includes(shell)) {
        throw new UsageError(`no completion for ${JSON.stringify(shell)}: shells are ${SHELLS.join(", ")}`);
      }
      const all = commands();
      io.stdout.write(shell === "bash" ? bashScript(all) : zshScript(all));
      return ExitCode.Ok;
    },
  };
}
