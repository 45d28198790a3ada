// Package peerbench benchmarks a peer validator, pb33f/libopenapi-validator,
// on the exchanges contracttest's BenchmarkExchange validates, so that "make
// bench" can set the Validator beside it. It is a module of its own so that
// the peer and its dependencies never reach the root module's go.mod, and so
// never anything an importer downloads.
package peerbench
