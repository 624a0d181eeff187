// Languages people in the network commonly speak, by their English names, with the
// ISO 639-1 codes the API stores. A page shows the names only; a code not in this list
// (one an API client stored) is named by the browser when it can.

export const LANGUAGES: [string, string][] = [
  ["ar", "Arabic"],
  ["bn", "Bengali"],
  ["zh", "Chinese"],
  ["nl", "Dutch"],
  ["en", "English"],
  ["fa", "Persian (Farsi)"],
  ["fr", "French"],
  ["de", "German"],
  ["el", "Greek"],
  ["ha", "Hausa"],
  ["he", "Hebrew"],
  ["hi", "Hindi"],
  ["id", "Indonesian"],
  ["it", "Italian"],
  ["ja", "Japanese"],
  ["ko", "Korean"],
  ["ms", "Malay"],
  ["pl", "Polish"],
  ["pt", "Portuguese"],
  ["pa", "Punjabi"],
  ["ro", "Romanian"],
  ["ru", "Russian"],
  ["es", "Spanish"],
  ["sw", "Swahili"],
  ["sv", "Swedish"],
  ["tl", "Tagalog (Filipino)"],
  ["ta", "Tamil"],
  ["th", "Thai"],
  ["tr", "Turkish"],
  ["uk", "Ukrainian"],
  ["ur", "Urdu"],
  ["vi", "Vietnamese"],
  ["yo", "Yoruba"],
  ["zu", "Zulu"],
].sort((a, b) => a[1].localeCompare(b[1], "en")) as [string, string][];

const NAMES = new Map(LANGUAGES);

/** A language code as a person reads it: its name (the code only if nothing names it). */
export function languageName(code: string): string {
  const known = NAMES.get(code);
  if (known) return known;
  try {
    return new Intl.DisplayNames(["en"], { type: "language" }).of(code) ?? code;
  } catch {
    return code;
  }
}
