/* SPDX-License-Identifier: MIT */
/*
 * sim_telemetry.c - the Telemetry Host-Initiated (LID 07h) and
 * Controller-Initiated (LID 08h) log pages of the simulated controller
 * (NVMe 2.0 §5.16.1.8, §5.16.1.9, §8.24), offered with LPA bit 3; Data
 * Area 4 with LPA bit 6 once the host set ETDAS (Host Behavior Support
 * byte 1).
 *
 * Both logs are a 512-byte header (Figures 226/227: LID, IEEE OUI bytes
 * 7:5, Data Area 1/2/3 Last Block bytes 9:8, 11:10, 13:12, Data Area 4
 * Last Block bytes 19:16, Host-Initiated Data Generation Number byte 381,
 * Controller-Initiated Data Available byte 382 and Data Generation Number
 * byte 383) and blocks of 512 bytes: here Data Area 1 ends at block 7,
 * 2 at 15, 3 at 31 (16 KiB) and 4 at 63 (32 KiB).  Every data byte is the
 * generation number of the capture it belongs to.  A Host-Initiated read
 * with LSP bit 0 (Create) captures anew; the controller captures with
 * nvme_sim_telemetry_ctrl_capture, and the capture stays until a read of
 * LID 08h with RAE clear releases it.
 */
#include <string.h>

#include "sim_internal.h"

#define SIM_TELEM_LB1 7u
#define SIM_TELEM_LB2 15u
#define SIM_TELEM_LB3 31u
#define SIM_TELEM_LB4 63u

static void put_le(uint8_t *p, uint32_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

uint16_t sim_telemetry_page(struct nvme_sim *sim, uint8_t lid, uint32_t cdw10, uint8_t *page,
                            size_t *size)
{
    if (!(sim->cfg.lpa & NVME_LPA_TELEMETRY))
        return SIM_SF_CMD(NVME_SC_INVALID_LOG_PAGE);
    bool host = lid == NVME_LID_TELEMETRY_HOST;
    if (host && ((cdw10 >> 8) & NVME_LOG_LSP_TELEMETRY_CREATE))
        sim->telem_gen++;
    bool da4 = (sim->cfg.lpa & NVME_LPA_TELEMETRY_DA4) && sim->hbs[1] == 1; /* ETDAS */
    bool data = host || sim->telem_ctrl_avail;
    uint32_t lb[4] = {SIM_TELEM_LB1, SIM_TELEM_LB2, SIM_TELEM_LB3, da4 ? SIM_TELEM_LB4 : 0};
    if (!data)
        memset(lb, 0, sizeof(lb));
    *size = ((size_t)(da4 ? SIM_TELEM_LB4 : SIM_TELEM_LB3) + 1) * 512;
    if (!data)
        *size = 512;
    if (sim->telem_lb_set) /* nvme_sim_telemetry_header: what a broken device says */
        memcpy(lb, sim->telem_lb, sizeof(lb));
    page[0] = lid;
    for (unsigned i = 0; i < 3; i++)
        put_le(page + 8 + 2 * i, lb[i], 2);
    put_le(page + 16, lb[3], 4);
    page[381] = host ? sim->telem_gen : 0;
    page[382] = sim->telem_ctrl_avail;
    page[383] = sim->telem_ctrl_gen;
    if (*size > 512)
        memset(page + 512, host ? sim->telem_gen : sim->telem_ctrl_gen, *size - 512);
    return 0;
}

void sim_telemetry_read(struct nvme_sim *sim, uint8_t lid, bool rae)
{
    if (lid == NVME_LID_TELEMETRY_CTRL && !rae)
        sim->telem_ctrl_avail = false; /* released (NVMe 2.0 §8.24.2) */
}

void nvme_sim_telemetry_ctrl_capture(struct nvme_sim *sim)
{
    pthread_mutex_lock(&sim->mtx);
    sim->telem_ctrl_gen++;
    sim->telem_ctrl_avail = true;
    pthread_mutex_unlock(&sim->mtx);
}

void nvme_sim_telemetry_header(struct nvme_sim *sim, const uint32_t lb[4])
{
    pthread_mutex_lock(&sim->mtx);
    sim->telem_lb_set = lb != NULL;
    if (lb != NULL)
        memcpy(sim->telem_lb, lb, sizeof(sim->telem_lb));
    pthread_mutex_unlock(&sim->mtx);
}
