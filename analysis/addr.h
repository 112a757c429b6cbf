/*
 * addr - MAC and IP address text conversions, and the small address type the
 * analyzer keys on. Addresses are in network order; IPv4 uses bytes 0..3.
 */
#ifndef MIGSCOPE_ADDR_H
#define MIGSCOPE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ip_addr {
	uint8_t family; /* 0 (none), 4 or 6 */
	uint8_t bytes[16];
};

enum { ADDR_STR_LEN = 48 };

int mac_parse(const char *s, uint8_t mac[6]);
int ip_parse(const char *s, struct ip_addr *ip);
/* "MAC[,IP]" as --guest takes it; ip is written only when given. */
int guest_spec_parse(const char *s, uint8_t mac[6], struct ip_addr *ip);
void mac_format(const uint8_t mac[6], char *out, size_t len);
void ip_format(const struct ip_addr *ip, char *out, size_t len);
bool ip_equal(const struct ip_addr *a, const struct ip_addr *b);
bool mac_is_zero(const uint8_t mac[6]);

#endif
