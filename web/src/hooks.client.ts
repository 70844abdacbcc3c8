import { z } from 'zod';

// zod compiles object parsers with `new Function` when it may, deciding when a schema is
// built. Our CSP forbids eval, so switch that off here, in the app entry, before any route
// module (and the shared schemas it imports) is evaluated.
z.config({ jitless: true });
