// Vars shared by every app deployed the Capistrano way: each app's spec extends this schema
// with its own vars, and `verify check` / every run validate them on each host first.
import { defineVars, z } from 'postdeploy-verify'

export const AppVars = defineVars(
  z.object({
    /** The app's directory name under appsRoot. */
    app: z.string().min(1),
    /** Where apps are deployed; the demo points it at a temporary directory. */
    appsRoot: z.string().default('/apps'),
  }),
)
