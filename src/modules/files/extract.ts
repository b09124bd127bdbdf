// Text out of an uploaded file, for `files.get` and search: plain text, Markdown, CSV and JSON as they are; HTML as
// its visible text; PDF through `unpdf` (Mozilla's pdf.js packaged for servers, pure JS, no canvas or binary at
// install); DOCX through `mammoth` (reads the document XML out of the zip, pure JS). Anything else is skipped.
// Runs in the extraction job (jobs.ts), never in the request.

/** Past this, extracted text is cut (the index keeps at most 500,000 characters of it anyway). */
export const MAX_TEXT_CHARS = 1_000_000;

export type Extracted = { status: 'done'; text: string } | { status: 'skipped'; reason: string };

const TEXT_TYPES = /^(text\/(plain|markdown|x-markdown|csv|tab-separated-values|x-log)|application\/(json|x-ndjson|csv|xml)|text\/xml)\b/;
const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

/** What to extract with, from the MIME type (and the name's extension when the type is generic). */
export function extractorFor(type: string, name: string): 'text' | 'html' | 'pdf' | 'docx' | null {
  const t = type.toLowerCase();
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase();
  if (t.startsWith('text/html') || t.startsWith('application/xhtml')) return 'html';
  if (t === 'application/pdf') return 'pdf';
  if (t === DOCX) return 'docx';
  if (TEXT_TYPES.test(t)) return 'text';
  if (t === 'application/octet-stream' || t === '') {
    if (ext === 'pdf') return 'pdf';
    if (ext === 'docx') return 'docx';
    if (ext === 'html' || ext === 'htm') return 'html';
    if (['txt', 'md', 'markdown', 'csv', 'tsv', 'json', 'log'].includes(ext ?? '')) return 'text';
  }
  return null;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/**
 * HTML → its visible text. Only for indexing (the result is never served as HTML), so dropping tags is enough:
 * scripts, styles and comments are removed with their content first, block elements become line breaks.
 */
export function htmlToText(html: string): string {
  return html
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(script|style|noscript|template|head)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<(br|\/p|\/div|\/h[1-6]|\/li|\/tr|\/section|\/article|\/header|\/footer|\/blockquote)\b[^>]*>/gi, '\n')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#\d+|#x[0-9a-f]+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] !== '#') return ENTITIES[e.toLowerCase()] ?? m;
      const code = e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1));
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : ' ';
    })
    .replace(/[ \t\f\v\r]+/g, ' ')
    .replace(/ *\n[\n ]*/g, '\n')
    .trim();
}

async function pdfText(bytes: Buffer): Promise<string> {
  const { extractText, getDocumentProxy } = await import('unpdf');
  const pdf = await getDocumentProxy(new Uint8Array(bytes));
  try {
    const { text } = await extractText(pdf, { mergePages: true });
    return text;
  } finally {
    // pdf.js keeps the parsed document (and a fake worker) until told to let go.
    await (pdf as unknown as { destroy?: () => Promise<void> }).destroy?.();
  }
}

async function docxText(bytes: Buffer): Promise<string> {
  const mammoth = (await import('mammoth')).default;
  const { value } = await mammoth.extractRawText({ buffer: bytes });
  return value;
}

// The extractors are loaded on first use: pdf.js is large, and most processes never read a PDF.
export async function extractText(bytes: Buffer, type: string, name: string): Promise<Extracted> {
  const how = extractorFor(type, name);
  if (!how) return { status: 'skipped', reason: `no text extractor for ${type || 'this type'}` };
  let text: string;
  if (how === 'text') text = new TextDecoder('utf-8').decode(bytes);
  else if (how === 'html') text = htmlToText(new TextDecoder('utf-8').decode(bytes));
  else if (how === 'pdf') text = await pdfText(bytes);
  else text = await docxText(bytes);
  return { status: 'done', text: text.replaceAll('\u0000', '').trim().slice(0, MAX_TEXT_CHARS) };
}
