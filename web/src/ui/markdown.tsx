// Markdown written by people and agents (task descriptions, comments), rendered with markdown-it (DESIGN §1).
// `html: false` escapes any raw HTML in the text and markdown-it's link check refuses javascript:, vbscript: and
// file: links, so the output is safe to insert; the CSP (no inline script) is the second line behind it.
import MarkdownIt from 'markdown-it';

const md = new MarkdownIt({ html: false, linkify: true, breaks: true });

const prose =
  'break-words text-sm leading-relaxed [&_a]:text-indigo-700 [&_a]:underline dark:[&_a]:text-indigo-300 [&_blockquote]:border-l-4 [&_blockquote]:border-zinc-300 [&_blockquote]:pl-3 [&_code]:rounded [&_code]:bg-zinc-100 [&_code]:px-1 [&_code]:text-xs dark:[&_code]:bg-zinc-800 [&_h1]:text-lg [&_h1]:font-semibold [&_h2]:font-semibold [&_h3]:font-semibold [&_li]:my-0.5 [&_ol]:list-decimal [&_ol]:pl-5 [&_pre]:whitespace-pre-wrap [&_pre]:rounded [&_pre]:bg-zinc-100 [&_pre]:p-2 dark:[&_pre]:bg-zinc-800 [&_ul]:list-disc [&_ul]:pl-5 [&>*+*]:mt-2';

export function Markdown({ text, className = '' }: { text: string; className?: string }) {
  // biome-ignore lint/security/noDangerouslySetInnerHtml: markdown-it with html disabled escapes raw HTML (see above).
  return <div className={`${prose} ${className}`} dangerouslySetInnerHTML={{ __html: md.render(text) }} />;
}
