// Package query is the small query language of ptrsweep's API and page:
//
//	ptr_part = 'security.ipip.net' AND (asn = 63949 OR country = 'JP')
//
// Parse turns a query into a tree of conditions joined by AND and OR;
// Compile turns the tree into a ClickHouse WHERE clause with '?' placeholders
// and an argument list. No text of the query ever reaches the SQL string: the
// compiler writes only column names from a Columns mapping and fixed
// operators, and every value travels as an argument.
//
// # Grammar
//
//	query     = or
//	or        = and { "OR" and }
//	and       = primary { "AND" primary }
//	primary   = "(" or ")" | condition
//	condition = field op value
//
// AND binds tighter than OR; parentheses group. The keywords AND, OR, IN and
// NOT and the field names are case-insensitive. Values are quoted with single
// (or double) quotes; inside a quoted value a backslash and the byte after it
// are kept as they are, so a name's DNS escape such as \' or \. does not end
// the value. AS numbers may also be written bare. Conditions compare stored
// rows: a row is one PTR of an address, or the outcome of an address without
// a PTR (empty ptr).
//
// # Fields
//
//	ptr_part = 'security.ipip.net'  the name or any name ending in ".security.ipip.net":
//	                                whole labels only, never "notsecurity.ipip.net";
//	                                a leading dot is ignored (".ipip.net" is "ipip.net")
//	ptr      = 'scan-30.security.ipip.net'   exactly this name
//	ip       = '1.2.3.4'            one address
//	ip in    '1.2.0.0/16'           an address in a CIDR block (a bare address is a /32)
//	asn      = 63949                the AS number (also '63949' or 'AS63949')
//	country  = 'JP'                 an ISO 3166 two-letter code, any case
//	fcrdns   = 'mismatch'           confirmed, mismatch, no_address, error, numeric,
//	                                or '' for rows that were not forward-confirmed
//	status   = 'servfail'           ok, nxdomain, nodata, servfail, refused, timeout
//	scan     = 'demo'               a scan name: a-z, 0-9, '-' and '_'
//
// Every field also takes != (or <>), its negation; ip takes "not in". A
// negation holds for every row whose value differs, rows without a PTR
// included: ptr_part != 'example.com' matches an address whose status is
// timeout. Names are in the stored form (see package sweep): lower-cased
// (upper case in the query is fine), no trailing dot, DNS presentation
// escapes (a space as "\ ", other bytes as \DDD, and . ( ) ; @ " ' \ inside
// a label escaped with a backslash).
//
// # Limits
//
// A query is at most MaxLength bytes, MaxConditions conditions and MaxDepth
// nested parentheses. Every error is an *Error naming the 1-based byte
// position and what was expected there, such as
// "at 12: expected a quoted string after '=', found end of query".
package query
