/** The native strided copy (copy-rows.c), where it was built: copyBox's `copyRows` for big copies off the workflow's modules. */
import type { RowsCopy } from '../extent/box.js';
import { nativeAddon } from '../native.js';

export const copyRows = nativeAddon<{ copyRows: RowsCopy }>(import.meta.url, './copy-rows.node')?.copyRows;
