import { z } from 'zod';
import { Timestamp } from '../../core/schemas.ts';

export const Password = z.string().min(8, 'at least 8 characters').max(200).describe('At least 8 characters');
export const Email = z
  .email()
  .max(254)
  .transform((e) => e.trim());

export const User = z
  .object({
    id: z.string(),
    username: z.string(),
    email: z.string(),
    name: z.string().nullable(),
    role: z.enum(['admin', 'user']).describe('`admin` = instance admin'),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .meta({ id: 'User' });
