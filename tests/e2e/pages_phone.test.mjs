// The pages at phone size: see pages.mjs.
import { pageJourneys } from './pages.mjs';

await pageJourneys('phone');
