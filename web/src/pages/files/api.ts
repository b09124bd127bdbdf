// What the Files page sends and fetches besides the typed client: the bytes of an upload (base64, as files.create
// takes them) and of a download (through apiFetch, so the org header and session renewal apply, as <img src> could not).
import { apiFetch, ApiError } from '../../api/client';

/** The file's bytes in base64, without the data-URL prefix. */
export function readAsBase64(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error ?? new Error('Could not read the file.'));
    reader.readAsDataURL(file);
  });
}

export async function fetchBlob(id: string): Promise<Blob> {
  const res = await apiFetch(new Request(`/api/v1/files/${encodeURIComponent(id)}/download?inline=true`));
  if (!res.ok) throw new ApiError(res.status, (await res.json().catch(() => null)) as never);
  return res.blob();
}

/** Saves the file the way a browser download does. */
export async function saveFile(id: string, name: string) {
  const url = URL.createObjectURL(await fetchBlob(id));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
