/**
 * `POST /api/login` and `POST /api/login/refresh`: a user name and password (or a valid token)
 * traded for a short-lived signed token and the user it names.
 */
import * as z from '../zod.js';
import { orNull } from './common.js';

/** Unknown keys are refused, as in every request body. */
export const LoginBody = z.strictObject({
  username: z.string().check(z.minLength(1), z.maxLength(64)),
  password: z.string().check(z.minLength(1), z.maxLength(1024)),
});
export type LoginBody = z.infer<typeof LoginBody>;

/** The user a token names: its role and scope. */
export const ApiUser = z.object({
  name: z.string().check(z.minLength(1)),
  role: z.string().check(z.minLength(1)),
  /** The supplier a supplier acts for; null for every other role. */
  supplier: orNull(z.string()),
  sites: z._default(z.array(z.string()), []),
});
export type ApiUser = z.infer<typeof ApiUser>;

export const LoginResponse = z.object({
  token: z.string().check(z.minLength(1)),
  expiresAt: z.number(),
  user: ApiUser,
});
export type LoginResponse = z.infer<typeof LoginResponse>;
