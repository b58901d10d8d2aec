package fakeclose

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkGenerate100k measures seeding 100,000 opportunities (and their
// Event Log entries).
func BenchmarkGenerate100k(b *testing.B) {
	for b.Loop() {
		New(Options{}).Generate(KindOpportunity, 100_000)
	}
}

// BenchmarkPage500 measures serving one deep 500-record page from a
// 100,000-record store; allocations must stay proportional to the page.
func BenchmarkPage500(b *testing.B) {
	s := New(Options{PageLimitMax: 500, Clock: NewClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))})
	s.Generate(KindOpportunity, 100_000)
	req := httptest.NewRequest("GET", "/api/v1/opportunity/?_order_by=date_updated&date_updated__gt=2023-12-31&_limit=500&_skip=90000", nil)
	req.SetBasicAuth(DefaultAPIKey, "")
	for b.Loop() {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkEventPage measures one Event Log page from 100,000 events.
func BenchmarkEventPage(b *testing.B) {
	s := New(Options{Clock: NewClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))})
	s.Generate(KindContact, 100_000)
	req := httptest.NewRequest("GET", "/api/v1/event/?object_type=contact&date_updated__gte=2023-12-31", nil)
	req.SetBasicAuth(DefaultAPIKey, "")
	for b.Loop() {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}
