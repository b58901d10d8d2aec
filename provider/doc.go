// Package provider is everything in eventdesk that talks to the outside
// world: the HTTP listener (the CE-compatible API and the webhook receiver),
// and in sub-packages the vendor adapters, the poll scheduler, the callback
// dispatcher and fake vendor servers.
package provider
