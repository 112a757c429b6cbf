#include "analysis/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly xx:xx:xx:xx:xx:xx (sscanf's %x would take signs and spaces);
 * mac is written only on success. */
int mac_parse(const char *s, uint8_t mac[6])
{
	uint8_t out[6];

	for (int i = 0; i < 6; i++) {
		const char *p = s + i * 3;
		int hi = hex_digit(p[0]), lo = hi < 0 ? -1 : hex_digit(p[1]);

		if (lo < 0 || p[2] != (i == 5 ? '\0' : ':'))
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(mac, out, 6);
	return 0;
}

int ip_parse(const char *s, struct ip_addr *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, s, ip->bytes) == 1) {
		ip->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, ip->bytes) == 1) {
		ip->family = 6;
		return 0;
	}
	return -EINVAL;
}

void mac_format(const uint8_t mac[6], char *out, size_t len)
{
	snprintf(out, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
}

void ip_format(const struct ip_addr *ip, char *out, size_t len)
{
	if (ip->family == 0 || !inet_ntop(ip->family == 4 ? AF_INET : AF_INET6, ip->bytes, out,
					  (socklen_t)len))
		snprintf(out, len, "-");
}

bool ip_equal(const struct ip_addr *a, const struct ip_addr *b)
{
	return a->family == b->family &&
	       memcmp(a->bytes, b->bytes, a->family == 4 ? 4 : 16) == 0;
}

bool mac_is_zero(const uint8_t mac[6])
{
	static const uint8_t zero[6];

	return memcmp(mac, zero, 6) == 0;
}

int guest_spec_parse(const char *s, uint8_t mac[6], struct ip_addr *ip)
{
	char buf[32];
	const char *comma = strchr(s, ',');
	size_t len = comma ? (size_t)(comma - s) : strlen(s);

	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (mac_parse(buf, mac))
		return -EINVAL;
	if (comma && ip_parse(comma + 1, ip))
		return -EINVAL;
	return 0;
}
