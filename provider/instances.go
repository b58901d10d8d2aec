package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/store"
)

// elementJSON is CE's element object, as the seeds' responses show it.
type elementJSON struct {
	ID                     int            `json:"id"`
	Name                   string         `json:"name"`
	Key                    string         `json:"key"`
	Description            string         `json:"description"`
	Image                  string         `json:"image"`
	Active                 bool           `json:"active"`
	Deleted                bool           `json:"deleted"`
	TypeOauth              bool           `json:"typeOauth"`
	TrialAccount           bool           `json:"trialAccount"`
	TransformationsEnabled bool           `json:"transformationsEnabled"`
	Authentication         map[string]any `json:"authentication"`
	Hub                    string         `json:"hub"`
	Parameters             []any          `json:"parameters"`
}

func toElementJSON(el model.Element) elementJSON {
	return elementJSON{
		ID: el.ID, Name: el.Name, Key: el.Key, Description: el.Description, Image: el.Image,
		Active: true, TransformationsEnabled: true,
		Authentication: map[string]any{"type": el.AuthType},
		Hub:            el.Hub, Parameters: []any{},
	}
}

// InstanceJSON is CE's instance response plus eventdesk's
// webhookUrl and notification status.
type InstanceJSON struct {
	ID                    int64             `json:"id"`
	Name                  string            `json:"name"`
	Token                 string            `json:"token"`
	Element               elementJSON       `json:"element"`
	ProvisionInteractions []any             `json:"provisionInteractions"`
	Valid                 bool              `json:"valid"`
	Disabled              bool              `json:"disabled"`
	MaxCacheSize          int               `json:"maxCacheSize"`
	CacheTimeToLive       int               `json:"cacheTimeToLive"`
	Configuration         map[string]string `json:"configuration"`
	EventsEnabled         bool              `json:"eventsEnabled"`
	CachingEnabled        bool              `json:"cachingEnabled"`
	Tags                  []string          `json:"tags"`
	CreatedDate           string            `json:"createdDate"`
	UpdatedDate           string            `json:"updatedDate"`
	WebhookURL            string            `json:"webhookUrl"`
	NotificationsOff      string            `json:"notificationsOff,omitempty"`
	// EventsEnabledDate is when events were last switched on; the
	// first poll looks for changes from there.
	EventsEnabledDate string `json:"eventsEnabledDate,omitempty"`
}

// NewInstanceJSON renders an instance as the API answers it, secrets masked.
// showToken is true only in the create answer, the one moment the
// application must learn its token.
func NewInstanceJSON(in model.Instance, publicURL string, showToken bool) InstanceJSON {
	el, _ := in.Element()
	masked := in.Masked()
	tok := masked.Token
	if showToken {
		tok = in.Token
	}
	tags := in.Tags
	if tags == nil {
		tags = []string{}
	}
	return InstanceJSON{
		ID: in.ID, Name: in.Name, Token: tok, Element: toElementJSON(el),
		ProvisionInteractions: []any{}, Valid: true,
		Configuration: masked.Configuration, EventsEnabled: in.EventsEnabled(),
		Tags:             tags,
		CreatedDate:      in.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"),
		UpdatedDate:      in.UpdatedAt.UTC().Format("2006-01-02T15:04:05Z"),
		WebhookURL:       model.WebhookURL(publicURL, in.ElementKey, in.ID),
		NotificationsOff: in.NotificationsOff,
		EventsEnabledDate: func() string {
			if in.EventsEnabledAt.IsZero() {
				return ""
			}
			return in.EventsEnabledAt.UTC().Format(time.RFC3339Nano)
		}(),
		Disabled: in.Disabled,
	}
}

func (s *Server) listElements(w http.ResponseWriter, r *http.Request) {
	els := model.Elements()
	out := make([]elementJSON, len(els))
	for i, el := range els {
		out[i] = toElementJSON(el)
	}
	setNext(w, 0)
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createInstance(w http.ResponseWriter, r *http.Request) {
	body, err := s.readBody(w, r)
	if err != nil {
		s.fail(w, r, err, redactInstanceBody(body))
		return
	}
	var req model.InstanceRequest
	if err := decodeInstanceRequest(body, &req, false); err != nil {
		s.fail(w, r, err, redactInstanceBody(body))
		return
	}
	in, err := CreateInstance(r.Context(), s.st, req, s.now().UTC())
	if err != nil {
		s.fail(w, r, err, redactInstanceBody(body))
		return
	}
	s.log.Info("instance created", "id", in.ID, "element", in.ElementKey)
	writeJSON(w, http.StatusOK, NewInstanceJSON(in, s.cfg.PublicURL, true))
}

// CreateInstance validates req and stores the new instance: the one path
// of the API's POST, the console's form and the command line.
func CreateInstance(ctx context.Context, st InstanceStore, req model.InstanceRequest, now time.Time) (model.Instance, error) {
	in, err := model.NewInstance(req, now)
	if err != nil {
		return in, err
	}
	return st.CreateInstance(ctx, in)
}

// PatchInstance applies req to the stored instance in one transaction,
// validated by the model's Patch: the one path of the API's PATCH, the
// console's form and poller editor, and the command line.
func PatchInstance(ctx context.Context, st InstanceStore, id int64, req model.InstanceRequest, now time.Time) (model.Instance, error) {
	return st.UpdateInstance(ctx, id, func(cur model.Instance) (model.Instance, error) { return cur.Patch(req, now) })
}

// decodeInstanceRequest reads the body of POST or PATCH /instances. As in
// the command line's instance files, // and /* */ comments and trailing
// commas are allowed, so a seed's instance.json can be sent as it is; an
// error still names the line and column of the body as sent. A PATCH
// (knownOnly) refuses fields it does not take, naming them: ignoring one
// ("disable": true) would answer 200 and change nothing.
func decodeInstanceRequest(body []byte, req *model.InstanceRequest, knownOnly bool) error {
	err := decodeJSON(model.StripJSONC(body), req, knownOnly)
	if field, ok := unknownField(err); ok {
		return &model.ValidationError{Problems: []model.Problem{{Field: field,
			Message: "unknown field; an instance update takes " + strings.Join(model.InstanceRequestFields, ", ")}}}
	}
	return err
}

// unknownField reads the field name out of encoding/json's "unknown field"
// error, the only way the package reports it.
func unknownField(err error) (string, bool) {
	if err == nil {
		return "", false
	}
	_, after, ok := strings.Cut(err.Error(), `unknown field "`)
	if !ok {
		return "", false
	}
	field, _, ok := strings.Cut(after, `"`)
	return field, ok
}

func (s *Server) listInstances(w http.ResponseWriter, r *http.Request) {
	p, err := parsePage(r)
	if err != nil {
		s.fail(w, r, err, nil)
		return
	}
	all, err := s.st.Instances(r.Context())
	if err != nil {
		s.fail(w, r, err, nil)
		return
	}
	out := []InstanceJSON{}
	var next uint64
	for _, in := range all {
		if uint64(in.ID) <= p.cursor {
			continue
		}
		if len(out) == p.size {
			next = uint64(out[len(out)-1].ID)
			break
		}
		out = append(out, NewInstanceJSON(in, s.cfg.PublicURL, false))
	}
	setNext(w, next)
	writeJSON(w, http.StatusOK, out)
}

// pathID parses the {id} path value.
func pathID(r *http.Request) (int64, error) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, errorf(http.StatusBadRequest, fmt.Sprintf("instance id %q is not a positive whole number", v))
	}
	return id, nil
}

// notFoundErr turns the store's "instance 7: not found" into a 404.
func notFoundErr(err error, what string) error {
	if errors.Is(err, store.ErrNotFound) {
		return &httpError{status: http.StatusNotFound, msg: "no such " + strings.TrimSuffix(err.Error(), ": "+store.ErrNotFound.Error()), err: err}
	}
	return err
}

func (s *Server) getInstance(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err == nil {
		var in model.Instance
		if in, err = s.st.Instance(r.Context(), id); err == nil {
			writeJSON(w, http.StatusOK, NewInstanceJSON(in, s.cfg.PublicURL, false))
			return
		}
		err = notFoundErr(err, "instance")
	}
	s.fail(w, r, err, nil)
}

func (s *Server) patchInstance(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err, nil)
		return
	}
	body, err := s.readBody(w, r)
	if err != nil {
		s.fail(w, r, err, redactInstanceBody(body))
		return
	}
	var req model.InstanceRequest
	if err := decodeInstanceRequest(body, &req, true); err != nil {
		s.fail(w, r, err, redactInstanceBody(body))
		return
	}
	in, err := PatchInstance(r.Context(), s.st, id, req, s.now().UTC())
	if err != nil {
		s.fail(w, r, notFoundErr(err, "instance"), redactInstanceBody(body))
		return
	}
	writeJSON(w, http.StatusOK, NewInstanceJSON(in, s.cfg.PublicURL, false))
}

func (s *Server) deleteInstance(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err == nil {
		if err = s.st.DeleteInstance(r.Context(), id); err == nil {
			s.log.Info("instance deleted", "id", id)
			writeJSON(w, http.StatusOK, map[string]any{})
			return
		}
		err = notFoundErr(err, "instance")
	}
	s.fail(w, r, err, nil)
}
