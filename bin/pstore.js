#!/usr/bin/env node
// The `pstore` command. The tool is TypeScript run through tsx (a runtime dependency), so no build step is needed.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../tools/cli/main.ts");
const code = await main(process.argv.slice(2));
// Exit once stdout and stderr have drained (a pipe read slowly must get every byte), but at once after that: an
// open port or a lingering timer must not keep a finished command alive.
await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((done) => stream.write("", done))));
process.exit(code);
