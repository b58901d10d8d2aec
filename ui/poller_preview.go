package ui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/eventdesk/eventdesk/model"
	"github.com/eventdesk/eventdesk/provider/poll"
)

// previewOverlap is the poller's default query overlap: each query
// reaches this far behind the since time, and dedupe drops what it brings
// twice.
const previewOverlap = poll.PreviewOverlap

// preview is the next request of one resource: its since time and the URL
// with every ${…} expanded.
type preview struct {
	since  time.Time
	source string
	url    string
	err    error
}

// pollerPreview draws a resource's next request, for the rows and for the
// resource being edited. It takes no keys: it follows what the others
// edit.
type pollerPreview struct {
	ctx *Context
	doc *pollerDoc
}

// of computes the next request of row, which need not be stored yet.
func (p pollerPreview) of(row pollerRow) preview {
	// The engine's preview computation, on the row being edited: the same
	// code the poller runs turns the hub URL into the vendor call.
	var sts []model.PollStatus
	if ps, ok := p.doc.polls[row.name]; ok {
		sts = []model.PollStatus{ps}
	}
	pvs := poll.Preview(p.doc.in, model.PollerConfig{row.name: row.r}, sts)
	if len(pvs) != 1 {
		return preview{url: "GET " + row.r.URL}
	}
	pv := preview{since: pvs[0].Since, source: pvs[0].SinceFrom, url: pvs[0].Request}
	if pvs[0].Error != "" {
		pv.err = errors.New(pvs[0].Error)
	}
	return pv
}

// View draws row's next request in w cells; selected highlights the name.
func (p pollerPreview) View(row pollerRow, w int, selected bool) []string {
	st := p.ctx.Styles
	pv := p.of(row)
	name := st.Label.Render(pad(row.name, 14))
	if selected {
		name = st.Focused.Render(pad(row.name, 14))
	}
	lines := []string{" " + name + st.Muted.Render(truncate(fmt.Sprintf("since %s (%s, −%s overlap)", p.ctx.stamp(pv.since), pv.source, previewOverlap), w-16))}
	// Wrapped, not cut: the since parameter comes late in the query.
	for _, part := range wrapHard(pv.url, w-4, 3) {
		lines = append(lines, "   "+st.Info.Render(part))
	}
	if pv.err != nil {
		lines = append(lines, "   "+st.Error.Render(truncate("✗ "+pv.err.Error(), w-4)))
	} else if strings.HasPrefix(row.r.URL, "/hubs/") {
		lines = append(lines, "   "+st.Muted.Render(truncate("from "+row.r.URL+"; its where clause also filters every record", w-4)))
	}
	return lines
}
