#include "analysis/roles.h"

#include <string.h>

const char *role_name(enum role r)
{
	static const char *const names[] = { "other", "src", "dst", "ctl" };

	return names[r];
}

int64_t roles_timing_noise_ns(const struct role_capture *a, const struct role_capture *b)
{
	return a->tick_ns + b->tick_ns + ROLE_TIMING_FLOOR_NS;
}

/* The server answers a SYN at once but waits a round trip for the final
 * ACK; the client sees the reverse. */
static enum role handshake_role(const struct stream_view *v)
{
	bool near_server = v->syn_to_synack_ns < v->synack_to_ack_ns;

	if (!v->handshake)
		return ROLE_NONE;
	return near_server == v->client_is_source ? ROLE_DST : ROLE_SRC;
}

static const struct ip_addr *host_of(const struct mig_stream *ms, enum role r)
{
	return r == ROLE_SRC ? &ms->source : &ms->destination;
}

/* The captures with the shortest and the longest delay (distinct ones, when
 * at least two have a delay), and how many have one. */
static int delay_extremes(const struct mig_stream *ms, const enum role *role, int n, int *imin,
			  int *imax)
{
	int ndelay = 0;

	*imin = *imax = -1;
	for (int i = 0; i < n; i++) {
		int64_t d = ms->view[i].ack_delay_ns;

		if (role[i] == ROLE_CTL || !d)
			continue;
		if (*imin < 0 || d < ms->view[*imin].ack_delay_ns)
			*imin = i;
		if (*imax < 0 || d >= ms->view[*imax].ack_delay_ns)
			*imax = i;
		ndelay++;
	}
	return ndelay;
}

/* With two NICs, a role one capture holds is not the other's: the handshake
 * of a capture given twice, or of two on one host, would make both sources. */
static bool role_held(const enum role *role, int n, enum role r)
{
	for (int i = 0; r != ROLE_NONE && i < n; i++)
		if (role[i] == r)
			return true;
	return false;
}

static void warn_close_timing(struct report *r, const struct mig_stream *ms, const enum role *role,
			      const struct role_capture *cap, int m, int a, int b, int64_t noise_ns)
{
	report_warn(r, "migration %d: timing cannot tell %s from %s (data-to-ACK delay %.3f vs "
		    "%.3f us, within %.3f us of noise); guessed %s and %s: label them src=/dst=",
		    m + 1, cap[a].path, cap[b].path, (double)ms->view[a].ack_delay_ns / 1e3,
		    (double)ms->view[b].ack_delay_ns / 1e3, (double)noise_ns / 1e3,
		    role_name(role[a]), role_name(role[b]));
}

/* The capture that saw the guest answer before the stream while every other
 * compute capture saw none: the source's. -1 when the sign is not clear. */
static int sure_source(const enum role *role, int n, const uint32_t *replies)
{
	int src = -1;

	for (int i = 0; replies && i < n; i++) {
		if (role[i] == ROLE_CTL || !replies[i])
			continue;
		if (replies[i] < ROLES_SURE_REPLIES || src >= 0)
			return -1;
		src = i;
	}
	return src;
}

/* One migration's roles, given the hosts known so far. */
static void assign_one(const struct mig_stream *ms, int m, const struct role_capture *cap, int n,
		       const struct ip_addr *host, const bool *is_ctl, const uint32_t *replies,
		       enum role *role, struct report *r)
{
	int64_t dmin = 0, dmax = 0, noise = 0;
	int nseen = 0, nsrc = 0, imin, imax, k;
	bool timed = false, guessed = false;

	for (int i = 0; i < n; i++) {
		if (!ms->view[i].seen || is_ctl[i]) {
			role[i] = ROLE_CTL;
			continue;
		}
		nseen++;
		role[i] = ROLE_NONE;
		if (host[i].family)
			role[i] = ip_equal(&host[i], &ms->source)	   ? ROLE_SRC
				  : ip_equal(&host[i], &ms->destination) ? ROLE_DST
									 : ROLE_NONE;
	}
	if ((k = sure_source(role, n, replies)) >= 0 && role[k] == ROLE_NONE &&
	    !role_held(role, n, ROLE_SRC)) {
		role[k] = ROLE_SRC;
		for (int i = 0; nseen == 2 && i < n; i++)
			if (i != k && role[i] == ROLE_NONE)
				role[i] = ROLE_DST;
	}
	if (delay_extremes(ms, role, n, &imin, &imax) >= 2) {
		dmin = ms->view[imin].ack_delay_ns;
		dmax = ms->view[imax].ack_delay_ns;
		noise = roles_timing_noise_ns(&cap[imin], &cap[imax]);
		timed = dmax - dmin > noise;
		/* only a capture that timing had to place makes it a guess */
		guessed = !timed && (role[imin] == ROLE_NONE || role[imax] == ROLE_NONE);
	}
	for (int i = 0; i < n; i++) {
		enum role hs = handshake_role(&ms->view[i]);

		if (role[i] != ROLE_NONE)
			continue;
		if (timed && ms->view[i].ack_delay_ns == dmin)
			role[i] = ROLE_DST;
		else if (timed && ms->view[i].ack_delay_ns == dmax)
			role[i] = ROLE_SRC;
		else if (!(nseen == 2 && role_held(role, n, hs)))
			role[i] = hs;
	}
	for (int i = 0; i < n; i++)
		nsrc += role[i] == ROLE_SRC;
	for (int i = 0; i < n; i++) {
		if (role[i] != ROLE_NONE)
			continue;
		/* two NICs see a stream: whatever the other is not */
		role[i] = nseen == 2 && nsrc ? ROLE_DST : ROLE_SRC;
		nsrc += role[i] == ROLE_SRC;
		if (!guessed || (i != imin && i != imax))
			report_warn(r, "%s: no timing evidence of its host in migration %d; taken as "
				    "%s (label it src=/dst= to be sure)", cap[i].path, m + 1,
				    role_name(role[i]));
	}
	if (guessed)
		warn_close_timing(r, ms, role, cap, m, imin, imax, noise);
}

void roles_assign(const struct mig_stream *mig, int nmig, const struct role_capture *cap,
		  int ncap, const uint32_t (*replies_before)[MAX_INPUTS],
		  enum role (*role)[MAX_INPUTS], bool *is_ctl, struct report *r)
{
	struct ip_addr host[MAX_INPUTS];

	memset(host, 0, sizeof(host));
	for (int i = 0; i < ncap; i++) {
		const char *label = cap[i].label;

		is_ctl[i] = label && !strcmp(label, "ctl");
		for (int m = 0; label && !is_ctl[i] && m < nmig && !host[i].family; m++)
			if (mig[m].view[i].seen)
				host[i] = *host_of(&mig[m], !strcmp(label, "src") ? ROLE_SRC : ROLE_DST);
	}
	for (int m = 0; m < nmig; m++) {
		assign_one(&mig[m], m, cap, ncap, host, is_ctl,
			   replies_before ? replies_before[m] : NULL, role[m], r);
		for (int i = 0; i < ncap; i++)
			if (!host[i].family && (role[m][i] == ROLE_SRC || role[m][i] == ROLE_DST))
				host[i] = *host_of(&mig[m], role[m][i]);
	}
	for (int i = 0; i < ncap; i++) {
		bool seen_any = false;

		for (int m = 0; m < nmig; m++)
			seen_any |= mig[m].view[i].seen;
		if (!seen_any)
			is_ctl[i] = true;
	}
}
