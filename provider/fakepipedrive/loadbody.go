package fakepipedrive

import (
	"fmt"
	"strings"
)

// updatePersonExample is the Pipedrive webhooks v2 "Update person" example,
// verbatim from Pipedrive's migration guide.
const updatePersonExample = `{
    "data": {
        "add_time": "2022-11-24T13:18:55Z",
        "custom_fields": {},
        "emails": [],
        "first_name": "Sample Person",
        "id": 8,
        "label": null,
        "last_name": null,
        "name": "Sample Person",
        "org_id": 1,
        "owner_id": 12415231,
        "phones": [],
        "update_time": "2022-11-24T15:18:35Z",
        "visible_to": "3"
     },
     "previous": {
        "first_name": "Sample",
        "name": "Sample"
     },
     "meta": {
        "action": "change",
        "company_id": "8087566",
        "correlation_id": "43cb94f3-bbbd-406c-ae19-ddeec349d896",
        "entity_id": "8",
        "entity": "person",
        "id": "7c812ffd-8f50-45ea-a597-b8fcba2da9c0",
        "is_bulk_edit": false,
        "timestamp": "2022-11-24T15:18:35.616Z",
        "type": "general",
        "user_id": "12415231",
        "version": "2.0",
        "webhook_id": "4710827",
        "webhook_owner_id": "12094821",
        "change_source": "app",
        "attempt": 1,
        "host": "pd-us.pipedrive.com"
     }
}`

// exampleMetaID is the example's meta.id; every request gets a distinct one (a
// repeat would be dropped as a vendor retry and cost next to nothing).
const exampleMetaID = "7c812ffd-8f50-45ea-a597-b8fcba2da9c0"

var exampleHead, exampleTail = func() (string, string) {
	head, tail, ok := strings.Cut(updatePersonExample, `"id": "`+exampleMetaID+`"`)
	if !ok {
		panic("meta.id not found in the example body")
	}
	return head + `"id": "`, `"` + tail
}()

// UpdatePersonMetaID is the meta.id of delivery n: a random-looking version 4 UUID,
// like Pipedrive's, so the store sees ids in no order (ids that count up
// would flatter any index kept in id order).
func UpdatePersonMetaID(n int64) string {
	hi, lo := splitmix64(uint64(n)), splitmix64(^uint64(n))
	hi = hi&^0xf000 | 0x4000     // version 4
	lo = lo&^(0xc<<60) | 0x8<<60 // RFC 4122 variant
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", hi>>32, hi>>16&0xffff, hi&0xffff, lo>>48, lo&0xffffffffffff)
}

// splitmix64 is a fixed bijective mix: distinct inputs, distinct outputs.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// UpdatePersonWebhook is the example body with meta.id set to
// UpdatePersonMetaID(n): what load tests and benchmarks post, a new
// delivery for each n, as Pipedrive sends them.
func UpdatePersonWebhook(n int64) []byte {
	id := UpdatePersonMetaID(n)
	b := make([]byte, 0, len(exampleHead)+len(id)+len(exampleTail))
	b = append(b, exampleHead...)
	b = append(b, id...)
	return append(b, exampleTail...)
}
