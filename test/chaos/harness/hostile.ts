/**
 * Hostile values a device, a runbook author or a compromised service could hand us. Shared by the chaos
 * generator (as GetFile paths and script args that must be collected safely) and the fuzz tests.
 */

/** Device paths a runbook may legally name (no NUL) that must still land inside the output folder. */
export const HOSTILE_DEVICE_PATHS: readonly string[] = [
  "..\\..\\..\\..\\escape.txt",
  "C:\\..\\..\\..\\Windows\\win.ini",
  "C:\\Temp\\..\\..\\..\\..\\..\\etc\\passwd",
  "/../../../../tmp/escape",
  "../../../escape-posix",
  "\\\\fileserver\\share$\\loot.zip",
  "\\\\?\\C:\\Windows\\Temp\\long-form.bin",
  "\\\\.\\PhysicalDrive0",
  "C:\\Temp\\CON",
  "C:\\Temp\\nul.txt",
  "C:\\Temp\\COM1.log",
  "C:\\Temp\\LPT9",
  "C:\\Temp\\aux.",
  "C:\\Temp\\trailing dots...",
  "C:\\Temp\\trailing spaces   ",
  'C:\\Temp\\<angle>|pipe|"quote"*star?.txt',
  "C:\\Temp\\colon:stream:$DATA",
  "C:\\Temp\\new\nline\r.txt",
  "C:\\Temp\\tab\there.txt",
  "C:\\Temp\\unicode-ü-名前-🙂.txt",
  "C:\\Temp\\RTL\u202Egnp.exe",
  `C:\\Temp\\${"L".repeat(300)}.txt`,
  `C:\\${"deep\\".repeat(60)}file.txt`,
  "C:\\",
  "C:",
  ".",
  "..",
  "~/.ssh/id_rsa",
  "%USERPROFILE%\\NTUSER.DAT",
  "/etc/shadow",
  "/tmp/$(touch pwned)",
  "C:\\Temp\\.hidden",
  "C:\\Temp\\-dash-leading",
  "C:/Windows/Temp/forward/slashes.txt",
  "C:\\Temp\\mixed/sep\\..//..\\x",
];

/** Paths the runbook parser must refuse (naming the field), never pass on. */
export const REJECTED_DEVICE_PATHS: readonly string[] = ["", "C:\\Temp\\nul\u0000byte.txt", "\u0000"];

/** RunScript args with quotes, newlines and shell metacharacters: passed through verbatim, never interpreted. */
export const HOSTILE_ARGS: readonly string[] = [
  "-Name \"quoted value\" -Other 'single'",
  '"; Remove-Item -Recurse C:\\ #',
  "line one\nline two\r\nline three",
  "`$(whoami)` $env:PATH %COMSPEC%",
  "'unbalanced \"quotes",
  "\\\\server\\share -Path ..\\..\\x",
  "unicode ü 名前 🙂 \u202E",
  `-Long ${"x".repeat(2000)}`,
];

/** Device-controlled text that ends up in summaries and logs (Markdown/HTML/terminal injection). */
export const HOSTILE_TEXT: readonly string[] = [
  "<script>alert(1)</script>",
  "| pipe | in | table |",
  "::set-output name=status::hacked",
  "::add-mask::",
  "\u001b[31mred\u001b[0m \u001b]8;;http://evil\u0007link\u001b]8;;\u0007",
  "line\nbreak\r\nand\rreturn",
  "[link](javascript:alert(1)) ![img](http://evil/x.png)",
  "\u0000nul\u0000padding\u0000",
];
