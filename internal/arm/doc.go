// Package arm implements the parts of Azure Resource Manager that kiln
// speaks: resource IDs and scopes (ParseID, IsUnder, EqualIDs), the ARM
// template expression language ("[concat(parameters('a'), '-', ...)]"), and
// the evaluation of a group deployment template into concrete resources
// (EvaluateDeployment, ParseParameters).
//
// Everything here is pure: no I/O except reading parameter files named on
// the command line, no clock, no randomness. Functions that Azure answers
// from live state (reference, list*, utcNow, newGuid, ...) are refused with a
// message saying so.
package arm
