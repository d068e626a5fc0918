import { z } from 'zod';

/** Ids in paths (tenant, counter): 1–64 characters, letters, digits, "_" or "-", starting with a letter or digit. */
export const resourceId = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/,
    'must be 1-64 characters of letters, digits, "_" or "-", starting with a letter or digit',
  );
