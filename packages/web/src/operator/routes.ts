/** The operator console's routes (access: 'operator'), each loaded when first opened. */
import { lazy } from 'react';
import { sectionRoute, type AppRoute } from '../app/route-types.ts';

const TenantsScreen = lazy(() => import('./TenantsScreen.tsx'));
const TenantScreen = lazy(() => import('./TenantScreen.tsx'));
const PlansScreen = lazy(() => import('./PlansScreen.tsx'));
const CarriersScreen = lazy(() => import('./CarriersScreen.tsx'));
const DecksScreen = lazy(() => import('./DecksScreen.tsx'));
const DeckScreen = lazy(() => import('./DeckScreen.tsx'));
const WalletsScreen = lazy(() => import('./WalletsScreen.tsx'));
const ApprovalsScreen = lazy(() => import('./ApprovalsScreen.tsx'));
const AuditScreen = lazy(() => import('./AuditScreen.tsx'));
const NumbersScreen = lazy(() => import('./NumbersScreen.tsx'));

const op = sectionRoute('operator');

export const operatorRoutes: AppRoute[] = [
  op('/operator/tenants', 'Tenants', 10, TenantsScreen),
  op('/operator/tenants/:tenantId', 'Tenant', null, TenantScreen),
  op('/operator/plans', 'Plans', 20, PlansScreen),
  op('/operator/carriers', 'Carriers', 30, CarriersScreen),
  op('/operator/numbers', 'Phone numbers', 35, NumbersScreen),
  op('/operator/decks', 'Rate decks', 40, DecksScreen),
  op('/operator/decks/:deckId', 'Rate deck', null, DeckScreen),
  op('/operator/wallets', 'Wallets', 50, WalletsScreen),
  op('/operator/approvals', 'Top-up approvals', 60, ApprovalsScreen),
  op('/operator/audit', 'Audit log', 70, AuditScreen),
];
