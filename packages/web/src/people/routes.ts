/** The user client's people screens: the contact list at `/`, a contact's card at `/people/:userId`. */
import type { AppRoute } from '../app/route-types.ts';
// Not lazy: this is the first screen after sign-in, and a second request would only delay it.
import PeopleScreen from './PeopleScreen.tsx';

export const peopleRoutes: AppRoute[] = [
  {
    path: '/',
    title: 'Contacts',
    access: 'user',
    nav: { label: 'Contacts', section: 'user', order: 10 },
    component: PeopleScreen,
  },
  { path: '/people/:userId', title: 'Contact', access: 'user', component: PeopleScreen },
];
