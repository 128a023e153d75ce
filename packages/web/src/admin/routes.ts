/** The tenant admin screens' routes (access: 'admin'), each loaded when first opened. */
import { lazy } from 'react';
import { sectionRoute, type AppRoute } from '../app/route-types.ts';

const UsersScreen = lazy(() => import('./UsersScreen.tsx'));
const UserPhonesScreen = lazy(() => import('./UserPhonesScreen.tsx'));
const ImportUsersScreen = lazy(() => import('./ImportUsersScreen.tsx'));
const ApiKeysScreen = lazy(() => import('./ApiKeysScreen.tsx'));
const LicencesScreen = lazy(() => import('./LicencesScreen.tsx'));
const WalletScreen = lazy(() => import('./WalletScreen.tsx'));
const TopUpRequestsScreen = lazy(() => import('./TopUpRequestsScreen.tsx'));
const AuditScreen = lazy(() => import('./AuditScreen.tsx'));
const NumbersScreen = lazy(() => import('./NumbersScreen.tsx'));
const EmergencyScreen = lazy(() => import('./EmergencyScreen.tsx'));

const admin = sectionRoute('admin');

export const adminRoutes: AppRoute[] = [
  admin('/admin/users', 'Users', 10, UsersScreen),
  admin('/admin/users/:userId/phones', 'Phones', null, UserPhonesScreen),
  admin('/admin/import', 'Import users', null, ImportUsersScreen),
  admin('/admin/numbers', 'Phone numbers', 15, NumbersScreen),
  admin('/admin/emergency', 'Emergency calls', 16, EmergencyScreen),
  admin('/admin/api-keys', 'API keys', 20, ApiKeysScreen),
  admin('/admin/licences', 'Licences', 30, LicencesScreen),
  admin('/admin/wallet', 'Wallet', 40, WalletScreen),
  admin('/admin/top-ups', 'Top-up requests', 50, TopUpRequestsScreen),
  admin('/admin/audit', 'Audit log', 60, AuditScreen),
];
