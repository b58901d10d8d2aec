package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/eventdesk/eventdesk/model"
)

// Notification records come in two layouts, told apart by their first byte
// as event records are:
//
//   - compact (written since schema 3): recordCompact, recordVersion, then
//     the fields in binary; the body lives in bucketBodies. Every attempt
//     outcome decodes and rewrites this record, so it is kept small and
//     cheap to read: JSON decoding was the dispatcher's largest cost per
//     notification after the HTTP exchange itself.
//   - JSON (schemas 1 and 2): a uvarint length (never 0: the JSON is never
//     empty), the notification as JSON, then its body inline. Still read;
//     rewritten in the compact layout by the next update, which moves the
//     body to bucketBodies.

// Bits of a compact notification record's flags byte: which optional times
// follow.
const (
	notifHasNext = 1 << iota
	notifHasFailing
	notifHasDelivered
)

// encodeNotification is n's compact record, without its body.
func encodeNotification(n model.Notification) ([]byte, error) {
	seq, err := strconv.ParseUint(n.ID, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("notification id %q is not a sequence number", n.ID)
	}
	size := 64 + len(n.WebhookID) + len(n.ObjectType) + len(n.Source) + len(n.State) + len(n.LastError)
	for _, id := range n.EventIDs {
		size += 1 + len(id)
	}
	b := make([]byte, 0, size)
	b = append(b, recordCompact, recordVersion)
	b = binary.AppendUvarint(b, seq)
	b = binary.AppendVarint(b, n.InstanceID)
	var flags byte
	if !n.NextAttempt.IsZero() {
		flags |= notifHasNext
	}
	if !n.FailingSince.IsZero() {
		flags |= notifHasFailing
	}
	if !n.DeliveredAt.IsZero() {
		flags |= notifHasDelivered
	}
	b = append(b, flags)
	for _, s := range []string{n.WebhookID, n.ObjectType, string(n.Source), string(n.State), n.LastError} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, uint64(len(n.EventIDs)))
	for _, id := range n.EventIDs {
		b = binary.AppendUvarint(b, uint64(len(id)))
		b = append(b, id...)
	}
	for _, v := range []int{n.Attempts, n.CycleStart, n.LastStatus} {
		b = binary.AppendVarint(b, int64(v))
	}
	b = appendRecordTime(b, n.CreatedAt)
	for _, t := range []time.Time{n.NextAttempt, n.FailingSince, n.DeliveredAt} {
		if !t.IsZero() {
			b = appendRecordTime(b, t)
		}
	}
	return b, nil
}

// decodeMeta decodes a notification record of either layout, without its
// body; inline is the body of a JSON-layout record (empty for compact
// ones), not copied.
func decodeMeta(v []byte) (n model.Notification, inline []byte, err error) {
	if len(v) > 0 && v[0] == recordCompact {
		n, err = decodeCompactNotification(v)
		return n, nil, err
	}
	l, k := binary.Uvarint(v)
	if k <= 0 || uint64(len(v)-k) < l {
		return n, nil, fmt.Errorf("bad notification record header")
	}
	if err := json.Unmarshal(v[k:k+int(l)], &n); err != nil {
		return n, nil, err
	}
	return n, v[k+int(l):], nil
}

func decodeCompactNotification(v []byte) (model.Notification, error) {
	var n model.Notification
	if len(v) < 2 || v[1] != recordVersion {
		return n, fmt.Errorf("notification record layout %d is not one this eventdesk reads", v[min(1, len(v)-1)])
	}
	r := recordReader{b: v[2:]}
	n.ID = strconv.FormatUint(r.uvarint(), 10)
	n.InstanceID = r.varint()
	flags := r.byte()
	n.WebhookID = r.string()
	n.ObjectType = r.string()
	n.Source = model.Source(r.string())
	n.State = model.NotificationState(r.string())
	n.LastError = r.string()
	if c := r.uvarint(); c <= uint64(len(r.b)) {
		n.EventIDs = make([]string, c)
		for i := range n.EventIDs {
			n.EventIDs[i] = r.string()
		}
	} else {
		r.bad = true
	}
	n.Attempts, n.CycleStart, n.LastStatus = int(r.varint()), int(r.varint()), int(r.varint())
	n.CreatedAt = r.time()
	if flags&notifHasNext != 0 {
		n.NextAttempt = r.time()
	}
	if flags&notifHasFailing != 0 {
		n.FailingSince = r.time()
	}
	if flags&notifHasDelivered != 0 {
		n.DeliveredAt = r.time()
	}
	if r.bad || len(r.b) != 0 {
		return model.Notification{}, fmt.Errorf("bad notification record: cut short or too long")
	}
	return n, nil
}
