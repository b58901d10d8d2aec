package fakepipedrive

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkGenerate100k measures seeding 100,000 persons.
func BenchmarkGenerate100k(b *testing.B) {
	for b.Loop() {
		New(Options{}).Generate(KindPerson, 100_000)
	}
}

// BenchmarkPage500 measures serving one 500-record page from a 100,000-
// record store; allocations must stay proportional to the page.
func BenchmarkPage500(b *testing.B) {
	s := New(Options{Clock: NewClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))})
	s.Generate(KindPerson, 100_000)
	req := httptest.NewRequest("GET", "/api/v2/persons?limit=500&sort_by=update_time&updated_since=2024-01-01T00:00:00Z", nil)
	req.Header.Set("x-api-token", DefaultAPIToken)
	for b.Loop() {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}
