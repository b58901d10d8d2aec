package poll

import (
	"fmt"
	"time"

	"github.com/eventdesk/eventdesk/model"
)

// PreviewOverlap is the query overlap a preview shows: the poller's
// default.
const PreviewOverlap = time.Minute

// Preview is the next request of each resource of pc for the instance,
// in resource name order, built by the same code the poller runs.
func Preview(in model.Instance, pc model.PollerConfig, statuses []model.PollStatus) []model.PollPreview {
	byRes := make(map[string]model.PollStatus, len(statuses))
	for _, s := range statuses {
		byRes[s.Resource] = s
	}
	out := make([]model.PollPreview, 0, len(pc))
	for _, name := range pc.Resources() {
		r := pc[name]
		p := byRes[name]
		pv := model.PollPreview{Resource: name}
		switch {
		case !p.Checkpoint.IsZero():
			pv.SinceFrom = "last successful poll"
		case !in.EventsEnabledAt.IsZero():
			pv.SinceFrom = "events enabled"
		default:
			pv.SinceFrom = "instance saved"
		}
		if r.PollDelay > 0 {
			pv.SinceFrom += fmt.Sprintf(" − %ds delay", r.PollDelay)
		}
		var err error
		pv.Since, pv.Request, err = NextRequest(in, r, p, PreviewOverlap)
		if err != nil {
			pv.Since = Since(in, p, r)
			pv.Request = "GET " + r.URL
			pv.Error = err.Error()
		}
		out = append(out, pv)
	}
	return out
}
