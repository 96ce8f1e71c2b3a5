// The pages at desktop size: see pages.mjs.
import { pageJourneys } from './pages.mjs';

await pageJourneys('desktop');
