package provider

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/model/signature"
	"github.com/eventdesk/eventdesk/provider/closeio"
	"github.com/eventdesk/eventdesk/provider/pipedrive"
	"github.com/eventdesk/eventdesk/store"
)

// normalizers turn a vendor's webhook body into events, per element key.
// Each must refuse a body that is not valid JSON (receive relies on it).
var normalizers = map[string]func(body []byte) ([]model.Event, error){
	"pipedrive": pipedrive.Normalize,
	"closeio":   closeio.Normalize,
}

// closeSignatureWindow is how far close-sig-timestamp may be from now.
const closeSignatureWindow = 5 * time.Minute

// receiveResult is the receiver's 200 answer.
type receiveResult struct {
	Stored     int      `json:"stored"`
	Duplicates int      `json:"duplicates"`
	EventIDs   []string `json:"eventIds"`
}

// receive handles POST /events/{elementKey}/{encodedId} and, with the
// Element-Instances header, POST /events/{elementKey}. It answers 200 only
// after the events are committed with fsync.
func (s *Server) receive(w http.ResponseWriter, r *http.Request) {
	body, err := s.readBody(w, r)
	if err != nil {
		s.fail(w, r, err, body)
		return
	}
	insts, err := s.webhookInstances(r)
	if err != nil {
		if !errors.As(err, new(*httpError)) {
			// The store could not be read (a database that is away):
			// nothing was looked at, so the vendor should send it again.
			err = storeAway(w, "the instance could not be read now and nothing was kept; send the webhook again later", err)
		}
		s.fail(w, r, err, body)
		return
	}
	for _, in := range insts {
		if err := s.verifyWebhook(r, in, body); err != nil {
			s.fail(w, r, err, body)
			return
		}
	}
	// Deep nesting is refused before anything parses it: forwarded, it
	// would be refused by the callback receiver on every retry.
	if err := model.CheckJSONDepth(body, model.MaxJSONDepth); err != nil {
		s.fail(w, r, errorf(http.StatusBadRequest, err.Error()), body)
		return
	}
	el, _ := model.LookupElement(insts[0].ElementKey)
	// Every normalizer refuses invalid JSON, so a good body is validated
	// once, there, and only a refused one is checked here again.
	base, err := normalizers[el.Key](body)
	if err != nil {
		if !json.Valid(body) {
			// Only a bad body pays for decodeStrict's line-and-column message.
			var probe json.RawMessage
			if err := decodeStrict(body, &probe); err != nil {
				s.fail(w, r, err, body)
				return
			}
		}
		s.fail(w, r, errorf(http.StatusBadRequest, "cannot read the payload: "+err.Error()), body)
		return
	}
	now := s.now().UTC()
	for i := range base {
		if base[i].VendorEventID == "" {
			base[i].BodyHash = model.BodyHash(body)
		}
	}
	var events []model.Event
	for _, in := range insts {
		for _, e := range base {
			e.InstanceID = in.ID
			e.ElementKey = in.ElementKey
			e.HubKey = el.Hub
			e.Source = model.SourceWebhook
			e.ReceivedAt = now
			events = append(events, e)
		}
	}
	res, err := s.st.AppendEvents(r.Context(), events)
	if err != nil {
		var ve *model.ValidationError
		if !errors.As(err, &ve) {
			// Nothing was stored: a 2xx only ever follows the commit.
			err = storeAway(w, "the events could not be stored now and nothing was kept; send them again later", err)
		}
		s.fail(w, r, err, nil)
		return
	}
	if s.log.Enabled(r.Context(), slog.LevelDebug) {
		s.log.Debug("webhook stored", append(reqAttrs(r), "stored", len(res.Stored), "duplicates", res.Duplicates)...)
	}
	noteReceived(w, insts, len(base), res, len(body))
	writeReceiveResult(w, res)
}

// storeRetryAfter is the Retry-After, in seconds, of a webhook the store
// could not take (a full disk, a database that is away).
const storeRetryAfter = "5"

// storeAway is the answer to a webhook the store could not take now: 503
// with Retry-After tells the vendor to send it again, to this replica or
// another, once the store is back.
func storeAway(w http.ResponseWriter, msg string, err error) error {
	w.Header().Set("Retry-After", storeRetryAfter)
	return &httpError{status: http.StatusServiceUnavailable, msg: msg, err: err}
}

// writeReceiveResult answers 200 with the receiveResult of res, byte for
// byte what writeJSON would write (event ids are decimal, so nothing needs
// escaping), without reflection or an encoder per request.
func writeReceiveResult(w http.ResponseWriter, res store.AppendResult) {
	for _, e := range res.Stored {
		if e.ID == "" || strings.Trim(e.ID, "0123456789") != "" {
			out := receiveResult{Stored: len(res.Stored), Duplicates: res.Duplicates, EventIDs: make([]string, len(res.Stored))}
			for i, e := range res.Stored {
				out.EventIDs[i] = e.ID
			}
			writeJSON(w, http.StatusOK, out)
			return
		}
	}
	b := make([]byte, 0, 48+24*len(res.Stored))
	b = append(b, `{"stored":`...)
	b = strconv.AppendInt(b, int64(len(res.Stored)), 10)
	b = append(b, `,"duplicates":`...)
	b = strconv.AppendInt(b, int64(res.Duplicates), 10)
	b = append(b, `,"eventIds":[`...)
	for i, e := range res.Stored {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, e.ID)
	}
	b = append(b, "]}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// webhookInstances resolves the target instances from the path's base64 id
// or the Element-Instances header and checks each is of the path's element.
func (s *Server) webhookInstances(r *http.Request) ([]model.Instance, error) {
	key := r.PathValue("elementKey")
	if _, ok := model.LookupElement(key); !ok {
		return nil, errorf(http.StatusNotFound, fmt.Sprintf("unknown element %q in the webhook URL; known elements: %s", key, strings.Join(model.ElementKeys(), ", ")))
	}
	var ids []int64
	if enc := r.PathValue("encodedId"); enc != "" {
		id, err := model.DecodeInstanceID(enc)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, err.Error())
		}
		ids = append(ids, id)
	} else {
		hdr := strings.TrimSpace(r.Header.Get("Element-Instances"))
		if hdr == "" {
			return nil, errorf(http.StatusBadRequest, "no instance given: post to /elements/api-v2/events/"+key+"/{base64 instance id}, or send the header Element-Instances: id[,id…]")
		}
		for _, part := range strings.Split(hdr, ",") {
			id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
			if err != nil || id <= 0 {
				return nil, errorf(http.StatusBadRequest, fmt.Sprintf("Element-Instances: %q is not a positive decimal instance id", strings.TrimSpace(part)))
			}
			if slices.Contains(ids, id) {
				continue // one body is one change per instance, however often it is named
			}
			ids = append(ids, id)
		}
	}
	insts := make([]model.Instance, 0, len(ids))
	for _, id := range ids {
		in, err := s.webhookInstance(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errorf(http.StatusNotFound, fmt.Sprintf("no instance %d", id))
		}
		if err != nil {
			return nil, err
		}
		if in.ElementKey != key {
			return nil, errorf(http.StatusNotFound, fmt.Sprintf("instance %d is a %s instance, not %s; use its own webhook URL (eventdesk webhook-url %d)", id, in.ElementKey, key, id))
		}
		insts = append(insts, in)
	}
	return insts, nil
}

// verifyWebhook demands what the instance's configuration says the vendor
// sends: Pipedrive's Basic credentials, Close's signature.
func (s *Server) verifyWebhook(r *http.Request, in model.Instance, body []byte) error {
	cfg := in.Configuration
	if wantU, wantP := cfg[model.KeyWebhookUsername], cfg[model.KeyWebhookPassword]; wantU != "" || wantP != "" {
		u, p, ok := r.BasicAuth()
		if !ok {
			return errorf(http.StatusUnauthorized, fmt.Sprintf("instance %d expects HTTP Basic auth (event.webhook.username/password) and the request has none", in.ID))
		}
		uOK := subtle.ConstantTimeCompare([]byte(u), []byte(wantU)) == 1
		pOK := subtle.ConstantTimeCompare([]byte(p), []byte(wantP)) == 1
		if !uOK || !pOK {
			return errorf(http.StatusUnauthorized, fmt.Sprintf("HTTP Basic credentials do not match instance %d's event.webhook.username/password", in.ID))
		}
	}
	if key := cfg[model.KeyWebhookSignatureKey]; key != "" {
		ts, sig := r.Header.Get("close-sig-timestamp"), r.Header.Get("close-sig-hash")
		err := signature.VerifyClose(key, ts, sig, body, s.now(), closeSignatureWindow)
		switch {
		case err == nil:
		case errors.Is(err, signature.ErrMissingSignature):
			return errorf(http.StatusUnauthorized, fmt.Sprintf("instance %d expects a Close signature: headers close-sig-hash and close-sig-timestamp are required", in.ID))
		case errors.Is(err, signature.ErrStaleTimestamp):
			return errorf(http.StatusUnauthorized, err.Error())
		case errors.Is(err, signature.ErrBadSignature):
			return errorf(http.StatusUnauthorized, fmt.Sprintf("close-sig-hash does not match the body signed with instance %d's event.webhook.signature.key", in.ID))
		default:
			return errorf(http.StatusUnauthorized, fmt.Sprintf("instance %d's event.webhook.signature.key cannot check signatures: %v", in.ID, err))
		}
	}
	return nil
}
