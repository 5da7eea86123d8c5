// Package policy is kiln's Azure Policy engine: it reads policy
// definitions, initiatives (policy set definitions), assignments and
// exemptions as Azure writes them, compiles a definition's rule once per
// set of parameter values, and evaluates it against ARM-shaped resources
// with Azure's semantics (missing versus null, case-insensitive string
// comparison, the implicit allOf over [*] aliases, count, template
// functions, errors that deny).
//
// The pieces, in the order a request meets them:
//
//   - ParseDefinition, NewDefinition, ParseSetDefinition, ParseAssignment
//     and ParseExemption decode Azure's JSON strictly: unknown keys,
//     operators, effects, functions and aliases are errors naming the JSON
//     path and the nearest valid name.
//   - Definition.Compile binds parameter values and returns a
//     CompiledDefinition, a tree of small nodes whose constant parts are
//     folded; CompiledDefinition.Evaluate runs it against one Resource.
//   - Aliases maps alias names to resource paths per resource type:
//     BuiltinAliases covers the types kiln has, LoadAliases reads more in
//     the format of `az provider show --expand resourceTypes/aliases`.
//     Kiln's own facts about a VM's image (Kiln.Compute/virtualMachines/
//     imageVersion.*) resolve against Resource.Facts, never the payload.
//   - CompileAssignment and CompileSetAssignment bind an assignment to its
//     definition or initiative; Admit decides a create, update or delete
//     request (append and modify first, then deny, audit and the rest, as
//     Azure orders effects); Scan computes compliance states of stored
//     resources and Summarize the percentages.
//   - Builtins are kiln's built-in definitions, Azure's shapes where Azure
//     has one.
//
// Where Azure's documentation, its linter and regorus disagree or are
// silent, kiln chooses (each choice is tested):
//
//   - equals, in and contains compare scalars as strings ignoring case,
//     numbers by their JSON lexeme: 5.0 does not equal "5" (the linter's
//     reading; regorus compares numbers).
//   - like treats "?" as one character, as regorus does; match's "?" is a
//     Unicode letter, "#" an ASCII digit.
//   - The ordering operators compare numbers with numbers and strings with
//     strings (as times when both are RFC 3339), ignoring case; any other
//     pairing fails the evaluation; a missing or null value is false.
//   - An operator value that evaluates to null fails the evaluation; a
//     literal null, an array for a single-valued operator (an Array
//     parameter with equals) or a single value for in are refused when the
//     definition is parsed, as Azure refuses them when it is authored.
//   - field() of a missing property is null (so empty() is true and it
//     reads as "" in strings); of a [*] alias an array, [] when missing.
//   - count over a missing array is 0; allOf and anyOf must not be empty.
//   - A missing mode is Indexed; resource provider modes are refused.
//   - A failed evaluation is Effect "deny" with Result.Err at request time,
//     whatever the definition's effect, and NonCompliant in a scan.
//   - Template functions follow ARM: equals and contains are
//     case-sensitive, startsWith, endsWith and indexOf are not, and every
//     argument of and() and or() is evaluated (if() evaluates only the
//     branch it takes). Functions Azure refuses in policy rules
//     (dateTimeAdd, resourceId, variables, list*, ...) are refused.
//   - An exemption stops request-time effects too; it ends at expiresOn.
//   - Unknown is counted in the compliance percentage's total, so it stays
//     at most 100%; no resources is 100%.
//
// Everything here is pure: no I/O, no goroutines, and no clock except
// when EvalContext.Now (or Request.Now, ScanOptions.Now) is left zero. Inputs are bounded (rule size and depth, expression depth,
// runtime string and iteration limits), so hostile input yields an error,
// never a panic or a stack overflow.
package policy
