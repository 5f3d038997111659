//go:build !linux

package resolve

// gsoPlatform: UDP_SEGMENT is Linux's; elsewhere every query is a send.
const gsoPlatform = false

var gsoCmsgLen = 0

func putSegmentCmsg(b []byte, size int) {}
