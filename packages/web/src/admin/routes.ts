/** The tenant admin screens' routes (access: 'admin'). */
import type { AppRoute } from '../app/route-types.ts';

export const adminRoutes: AppRoute[] = [];
