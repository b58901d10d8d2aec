// Package vendorjson holds the JSON plumbing eventdesk's vendor adapters
// (pipedrive, closeio) share: reading webhook bodies without losing digits
// (Object, Scalar), reading the many time formats vendors send
// (ParseTime), and calling a vendor's JSON API (Call) with one way of
// wording transport failures and turning error bodies into a message
// (Message).
//
// It exists so that a fix to, say, big-id handling or error-body parsing is
// made once for every adapter. What differs per vendor — credentials,
// envelopes, error texts, the APIError type and its sentinels — stays in the
// adapter; the helpers here take the vendor's name for their error texts.
package vendorjson
