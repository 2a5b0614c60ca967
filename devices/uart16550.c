/* uart16550.c - a National Semiconductor PC16550D UART, as a PC's COM port.
 *
 * Modelled: every register a polling or interrupt-driven driver touches (RBR,
 * THR, IER, IIR, FCR, LCR with DLAB and the divisor latch, MCR with loopback,
 * LSR, MSR with delta bits, SCR), the 16-byte receive FIFO and the interrupt
 * identification priorities of the data sheet. Transmission is instant: a
 * byte written to THR leaves at once, so LSR.THRE and LSR.TEMT always read 1.
 * Received data only comes from the loopback path (no host input yet), and
 * since there is no timing model the FIFO character-timeout interrupt is
 * reported as soon as data sits below the trigger level.
 */
#include <stdlib.h>
#include <string.h>

#include "devices/devices.h"

/* Register bits (PC16550D data sheet). */
#define IER_ERBFI 0x01 /* received data available */
#define IER_ETBEI 0x02 /* THR empty */
#define IER_ELSI  0x04 /* receiver line status */
#define IER_EDSSI 0x08 /* modem status */
#define IIR_NONE  0x01
#define IIR_MSR   0x00
#define IIR_THRE  0x02
#define IIR_RDA   0x04
#define IIR_RLS   0x06
#define IIR_CTO   0x0c
#define IIR_FIFO  0xc0
#define FCR_ENABLE   0x01
#define FCR_CLEAR_RX 0x02
#define LCR_DLAB  0x80
#define MCR_DTR   0x01
#define MCR_RTS   0x02
#define MCR_OUT1  0x04
#define MCR_OUT2  0x08
#define MCR_LOOP  0x10
#define LSR_DR    0x01
#define LSR_OE    0x02
#define LSR_THRE  0x20
#define LSR_TEMT  0x40
#define MSR_CTS   0x10
#define MSR_DSR   0x20
#define MSR_RI    0x40
#define MSR_DCD   0x80

#define RX_FIFO 16

struct uart {
    FILE *out;
    machine_t *m;         /* the bus it is attached to, and where */
    uint16_t base;
    uint8_t ier, lcr, mcr, scr, dll, dlm;
    uint8_t fcr;          /* last FCR value (write-only register; FIFO enable and trigger bits) */
    uint8_t lsr_err;      /* OE: sticky until LSR is read */
    uint8_t msr_delta;    /* MSR bits 3:0 (DCTS, DDSR, TERI, DDCD): sticky until MSR is read */
    uint8_t lines;        /* current modem input lines, MSR bits 7:4 */
    bool thre_pending;    /* THR-empty interrupt condition (cleared by IIR read or THR write) */
    uint8_t rx[RX_FIFO];
    int rx_head, rx_count;
};

/* Receive FIFO trigger levels selected by FCR bits 7:6. */
static const uint8_t rx_trigger[4] = { 1, 4, 8, 14 };

static bool fifo_on(const uart_t *u)
{
    return u->fcr & FCR_ENABLE;
}

/* The modem input lines: in loopback MCR's outputs feed them back (DTR->DSR,
 * RTS->CTS, OUT1->RI, OUT2->DCD); otherwise a connected, ready terminal. */
static uint8_t modem_lines(const uart_t *u)
{
    if (!(u->mcr & MCR_LOOP))
        return MSR_CTS | MSR_DSR | MSR_DCD;
    return ((u->mcr & MCR_RTS) ? MSR_CTS : 0) | ((u->mcr & MCR_DTR) ? MSR_DSR : 0) |
           ((u->mcr & MCR_OUT1) ? MSR_RI : 0) | ((u->mcr & MCR_OUT2) ? MSR_DCD : 0);
}

/* Recompute the input lines and latch the delta bits for what changed. */
static void modem_update(uart_t *u)
{
    uint8_t now = modem_lines(u), changed = now ^ u->lines;
    if (changed & MSR_CTS)
        u->msr_delta |= 0x01;
    if (changed & MSR_DSR)
        u->msr_delta |= 0x02;
    if ((changed & MSR_RI) && !(now & MSR_RI)) /* TERI: trailing edge only */
        u->msr_delta |= 0x04;
    if (changed & MSR_DCD)
        u->msr_delta |= 0x08;
    u->lines = now;
}

/* A byte arrives at the receiver (loopback). A full FIFO (or a full holding
 * register without FIFO) loses the new byte and flags an overrun. */
static void rx_push(uart_t *u, uint8_t b)
{
    int cap = fifo_on(u) ? RX_FIFO : 1;
    if (u->rx_count >= cap) {
        u->lsr_err |= LSR_OE;
        return;
    }
    u->rx[(u->rx_head + u->rx_count) % RX_FIFO] = b;
    u->rx_count++;
}

/* The highest-priority pending interrupt, as IIR bits 3:0. */
static uint8_t irq_id(const uart_t *u)
{
    if ((u->ier & IER_ELSI) && u->lsr_err)
        return IIR_RLS;
    if ((u->ier & IER_ERBFI) && u->rx_count) {
        if (!fifo_on(u) || u->rx_count >= rx_trigger[u->fcr >> 6])
            return IIR_RDA;
        return IIR_CTO;
    }
    if ((u->ier & IER_ETBEI) && u->thre_pending)
        return IIR_THRE;
    if ((u->ier & IER_EDSSI) && u->msr_delta)
        return IIR_MSR;
    return IIR_NONE;
}

/* ---- one function per register and direction ---- */

static uint8_t rd_rbr(uart_t *u)
{
    if (u->lcr & LCR_DLAB)
        return u->dll;
    if (!u->rx_count)
        return 0;
    uint8_t b = u->rx[u->rx_head];
    u->rx_head = (u->rx_head + 1) % RX_FIFO;
    u->rx_count--;
    return b;
}

static void wr_thr(uart_t *u, uint8_t v)
{
    if (u->lcr & LCR_DLAB) {
        u->dll = v;
        return;
    }
    if (u->mcr & MCR_LOOP)
        rx_push(u, v); /* loopback: the serial output is looped to the input, not sent */
    else if (u->out)
        fputc(v, u->out);
    /* the byte leaves at once, so THR is empty again: the THRE condition re-arms */
    u->thre_pending = true;
}

static uint8_t rd_ier(uart_t *u)
{
    return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
}

static void wr_ier(uart_t *u, uint8_t v)
{
    if (u->lcr & LCR_DLAB) {
        u->dlm = v;
        return;
    }
    /* enabling ETBEI while THR is empty raises the THRE interrupt (it always is empty here) */
    if ((v & IER_ETBEI) && !(u->ier & IER_ETBEI))
        u->thre_pending = true;
    u->ier = v & 0x0f;
}

static uint8_t rd_iir(uart_t *u)
{
    uint8_t id = irq_id(u);
    if (id == IIR_THRE) /* reading IIR when THRE is the source clears it */
        u->thre_pending = false;
    return id | (fifo_on(u) ? IIR_FIFO : 0);
}

static void wr_fcr(uart_t *u, uint8_t v)
{
    /* changing FIFO enable resets both FIFOs */
    if ((v ^ u->fcr) & FCR_ENABLE || (v & FCR_CLEAR_RX))
        u->rx_head = u->rx_count = 0;
    /* bit 2 clears the transmit FIFO, which is always empty here */
    u->fcr = v & 0xc9;
}

static uint8_t rd_lcr(uart_t *u) { return u->lcr; }
static void wr_lcr(uart_t *u, uint8_t v) { u->lcr = v; }
static uint8_t rd_mcr(uart_t *u) { return u->mcr; }

static void wr_mcr(uart_t *u, uint8_t v)
{
    u->mcr = v & 0x1f;
    modem_update(u);
}

static uint8_t rd_lsr(uart_t *u)
{
    uint8_t v = LSR_THRE | LSR_TEMT | u->lsr_err | (u->rx_count ? LSR_DR : 0);
    u->lsr_err = 0; /* reading LSR clears the error bits */
    return v;
}

static void wr_ignore(uart_t *u, uint8_t v)
{
    (void)u;
    (void)v; /* LSR and MSR writes are a factory test mode; ignored */
}

static uint8_t rd_msr(uart_t *u)
{
    uint8_t v = u->lines | u->msr_delta;
    u->msr_delta = 0;
    return v;
}

static uint8_t rd_scr(uart_t *u) { return u->scr; }
static void wr_scr(uart_t *u, uint8_t v) { u->scr = v; }

static const struct {
    uint8_t (*rd)(uart_t *u);
    void (*wr)(uart_t *u, uint8_t v);
} regs[8] = {
    [UART_RBR_THR] = { rd_rbr, wr_thr },
    [UART_IER] = { rd_ier, wr_ier },
    [UART_IIR_FCR] = { rd_iir, wr_fcr },
    [UART_LCR] = { rd_lcr, wr_lcr },
    [UART_MCR] = { rd_mcr, wr_mcr },
    [UART_LSR] = { rd_lsr, wr_ignore },
    [UART_MSR] = { rd_msr, wr_ignore },
    [UART_SCR] = { rd_scr, wr_scr },
};

uint8_t uart_read(uart_t *u, int reg)
{
    return regs[reg & 7].rd(u);
}

void uart_write(uart_t *u, int reg, uint8_t val)
{
    regs[reg & 7].wr(u, val);
}

bool uart_irq_line(const uart_t *u)
{
    return (u->mcr & MCR_OUT2) && irq_id(u) != IIR_NONE;
}

uint16_t uart_divisor(const uart_t *u)
{
    return (uint16_t)(u->dlm << 8 | u->dll);
}

uart_t *uart_new(FILE *out)
{
    uart_t *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->out = out;
    u->lcr = 0x03;   /* 8N1 */
    u->dll = 0x0c;   /* 9600 baud from the 1.8432 MHz clock */
    u->lines = modem_lines(u);
    return u;
}

void uart_free(uart_t *u)
{
    free(u);
}

/* A wider port access is a sequence of byte accesses to consecutive ports,
 * as the ISA bus splits it for an 8-bit device; bytes past the UART's eight
 * ports go to whatever the bus has there. */
static uint64_t port_read(void *opaque, uint16_t port, int size)
{
    uart_t *u = opaque;
    uint64_t v = 0;
    for (int i = 0; i < size; i++) {
        uint16_t p = (uint16_t)(port + i);
        uint64_t b = (uint16_t)(p - u->base) < 8 ? uart_read(u, p - u->base) : io_read(u->m, p, 1);
        v |= (b & 0xff) << (8 * i);
    }
    return v;
}

static void port_write(void *opaque, uint16_t port, int size, uint64_t val)
{
    uart_t *u = opaque;
    for (int i = 0; i < size; i++) {
        uint16_t p = (uint16_t)(port + i);
        uint8_t b = (uint8_t)(val >> (8 * i));
        if ((uint16_t)(p - u->base) < 8)
            uart_write(u, p - u->base, b);
        else
            io_write(u->m, p, 1, b);
    }
}

void uart_attach(machine_t *m, uart_t *u, uint16_t base)
{
    u->m = m;
    u->base = base;
    io_register(m, base, 8, port_read, port_write, u);
}
