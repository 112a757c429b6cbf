#include "analysis/linklayer.h"

#include <pcap/pcap.h>
#include <string.h>

enum {
	SLL_HDR_LEN = 16,  /* type(2) arphrd(2) addrlen(2) addr(8) proto(2) */
	SLL2_HDR_LEN = 20, /* proto(2) rsvd(2) ifindex(4) arphrd(2) type(1) addrlen(1) addr(8) */
	ARPHRD_ETHER = 1,
};

bool linklayer_supported(int linktype)
{
	return linktype == DLT_EN10MB || linktype == DLT_LINUX_SLL || linktype == DLT_LINUX_SLL2;
}

const char *linklayer_name(int linktype)
{
	const char *name = pcap_datalink_val_to_name(linktype);

	return name ? name : "unknown";
}

static int classify_cooked(const uint8_t *data, uint32_t caplen, uint32_t hdr_len,
			   uint16_t proto, uint16_t arphrd, uint16_t addr_len,
			   const uint8_t *addr, struct pkt_meta *m)
{
	int rc = parse_from_ethertype(data + hdr_len, data + caplen, proto, m);

	if (m->payload_off)
		m->payload_off = (uint16_t)(m->payload_off + hdr_len);
	if (arphrd == ARPHRD_ETHER && addr_len == 6)
		memcpy(m->eth_src, addr, 6);
	return rc;
}

int linklayer_classify(int linktype, const uint8_t *data, uint32_t caplen, struct pkt_meta *m)
{
	if (linktype == DLT_EN10MB)
		return parse_ethernet(data, data + caplen, m);
	if (linktype == DLT_LINUX_SLL) {
		if (caplen < SLL_HDR_LEN)
			return -1;
		return classify_cooked(data, caplen, SLL_HDR_LEN, rd16(data + 14), rd16(data + 2),
				       rd16(data + 4), data + 6, m);
	}
	if (linktype == DLT_LINUX_SLL2) {
		if (caplen < SLL2_HDR_LEN)
			return -1;
		return classify_cooked(data, caplen, SLL2_HDR_LEN, rd16(data), rd16(data + 8),
				       data[11], data + 12, m);
	}
	return -1;
}
