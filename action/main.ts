// Placeholder entry point; the GitHub Action issue implements it.
process.stdout.write("mde-live-response action: not implemented yet\n");
