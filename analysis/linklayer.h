/*
 * linklayer - maps a capture's link type onto the shared classifier (parse.h).
 *
 * Supported: Ethernet (DLT_EN10MB), Linux cooked captures v1 and v2
 * (DLT_LINUX_SLL, DLT_LINUX_SLL2, what `tcpdump -i any` writes). For cooked
 * captures the source MAC comes from the cooked header and meta->payload_off is
 * made relative to the frame start like for Ethernet.
 */
#ifndef MIGSCOPE_LINKLAYER_H
#define MIGSCOPE_LINKLAYER_H

#include <stdbool.h>
#include <stdint.h>
#include "bpf/parse.h"

bool linklayer_supported(int linktype);
const char *linklayer_name(int linktype);
/* 0 when classified, -1 when the frame is too short for its link header */
int linklayer_classify(int linktype, const uint8_t *data, uint32_t caplen, struct pkt_meta *m);

#endif
