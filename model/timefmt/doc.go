// Package timefmt reads and writes the date formats found in Cloud Elements
// poller configurations: Java SimpleDateFormat patterns (the language CE's
// users wrote them in), the special record format "milliseconds", Java-style
// time-zone names, and the ${…} date variables of poller URLs.
//
// Everything here is pure: no clock is read and nothing is written, so the
// caller supplies the "since" time and decides how to report. Expand leaves
// escaping to the caller; ExpandURL percent-encodes each value for the part
// of a URL it lands in.
//
// Two deliberate departures from Java, both because they are what users of
// CE's configurations actually meant:
//
//   - A run of S is a number of fractional-second digits, so SSSSSS is
//     microseconds, not a six-digit millisecond count. Parsing reads the
//     digits as a decimal fraction and accepts 1 to 9 of them whatever the
//     run length, since vendors trim or pad fractions freely.
//   - ${date:FMT} formats in UTC: CE's servers ran in GMT, so that is what
//     existing configurations expect.
//
// Positions in error messages are 1-based character positions.
package timefmt
