/**
 * Saves text as a file through a temporary `blob:` URL. A download is not a fetch or a subresource,
 * so the CSP (default-src 'none', no blob: source) does not stand in its way.
 */
export function saveFile(filename: string, content: string, type = 'text/plain'): void {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
