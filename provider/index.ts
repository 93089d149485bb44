// Placeholder; the Pulumi provider issue implements LiveResponseCollection and LibraryFile.
export {};
