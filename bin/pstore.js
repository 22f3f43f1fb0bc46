#!/usr/bin/env node
// The `pstore` command. The tool is TypeScript run through tsx (a runtime dependency), so no build step is needed.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../tools/cli/main.ts");
// Exit at once: an open port or a lingering timer must not keep a finished command alive.
process.exit(await main(process.argv.slice(2)));
