/** File names of the original's z-index and multipage TIFF layouts, from their base_filename template. */

const PLACEHOLDER = /<(?:o:(\d+))?(?:p:(\d+))?>/g;

/**
 * Expands `<o:N p:M>` (n + N zero-padded to M digits) and the literal `<x>`, `<y>`, `<z>`.
 * n is the slice z, except in hyperstacks, where it numbers the file (see multipage-tiff.ts).
 */
export function expandBaseFilename(template: string, x: number, y: number, z: number, n = z): string {
  return template
    .replace(/<x>/g, `${x}`)
    .replace(/<y>/g, `${y}`)
    .replace(/<z>/g, `${z}`)
    .replace(PLACEHOLDER, (_whole, offset?: string, pad?: string) => {
      return `${n + Number(offset ?? 0)}`.padStart(Number(pad ?? 0), '0');
    });
}
