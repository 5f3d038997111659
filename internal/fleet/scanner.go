package fleet

import "strings"

// ScannerWords are the words that mark a name as a scanner's. They are
// matched against the parts of a name's labels (see Scanner): generic words
// for what scanners do, and the names of well-known Internet-wide scanning
// projects that put them in their PTR records.
var ScannerWords = []string{
	"scan", "scans", "scanner", "scanners", "scanning", "masscan", "zmap",
	"probe", "probes", "prober", "probing",
	"crawl", "crawler", "crawlers", "crawling", "spider", "bot",
	"research", "researcher", "researchscan", "census", "survey", "measurement", "measurements",
	"security", "recon", "audit",
	"shodan", "censys", "binaryedge", "shadowserver", "onyphe", "stretchoid", "internet-census",
	"netsystemsresearch", "leakix", "criminalip", "rapid7", "sonar",
}

var scannerSet = func() map[string]bool {
	m := make(map[string]bool, len(ScannerWords))
	for _, w := range ScannerWords {
		m[w] = true
	}
	return m
}()

// Scanner reports whether a PTR name looks like a scanner's, and the first
// word that says so. A name matches when one of its labels, or one part of
// a label, is a word of ScannerWords; parts are what is left between '-'
// and '_' and at letter/digit boundaries, so "scan-30", "scanner01",
// "probe_eu" and "security" match, but "scandinavia", "probation" and
// "insecurity" do not (no substring matching). ASCII case is ignored. It
// is safe for concurrent use.
func Scanner(name string) (word string, ok bool) {
	name = asciiLower(name)
	for label := range strings.SplitSeq(name, ".") {
		if scannerSet[label] {
			return label, true
		}
		for _, part := range labelParts(label) {
			if scannerSet[part] {
				return part, true
			}
		}
	}
	return "", false
}

// labelParts splits a label at '-', '_' and letter/digit boundaries,
// dropping the separators. In a template, '#' counts as a digit and the
// braces of "{ip}" as separators.
func labelParts(label string) []string {
	var parts []string
	start := 0
	for i := 1; i <= len(label); i++ {
		if i < len(label) {
			prev, c := label[i-1], label[i]
			if !isSep(c) && !isSep(prev) && digitLike(prev) == digitLike(c) {
				continue
			}
		}
		if p := strings.Trim(label[start:i], "-_{}"); p != "" {
			parts = append(parts, p)
		}
		start = i
	}
	return parts
}

func isSep(c byte) bool { return c == '-' || c == '_' || c == '{' || c == '}' }

func digitLike(c byte) bool { return isDigit(c) || c == '#' }
