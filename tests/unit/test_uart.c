/* test_uart.c - the 16550 UART's registers as a driver sees them, and the
 * debug console / debug-exit ports through the machine's port bus. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devices/devices.h"

/* Output lands in a memory stream so the tests can read it back. */
typedef struct { FILE *f; char *buf; size_t len; uart_t *u; } fix_t;

static int setup(void **state)
{
    fix_t *x = calloc(1, sizeof *x);
    x->f = open_memstream(&x->buf, &x->len);
    x->u = uart_new(x->f);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    fix_t *x = *state;
    uart_free(x->u);
    fclose(x->f);
    free(x->buf);
    free(x);
    return 0;
}

static const char *output(fix_t *x)
{
    fflush(x->f);
    return x->len ? x->buf : "";
}

static void thr_writes_reach_output(void **state)
{
    fix_t *x = *state;
    uart_write(x->u, UART_RBR_THR, 'h');
    uart_write(x->u, UART_RBR_THR, 'i');
    assert_string_equal(output(x), "hi");
}

static void lsr_always_ready_to_send(void **state)
{
    fix_t *x = *state;
    assert_int_equal(uart_read(x->u, UART_LSR) & 0x61, 0x60); /* THRE|TEMT, no data */
    uart_write(x->u, UART_RBR_THR, 'a');
    assert_int_equal(uart_read(x->u, UART_LSR) & 0x60, 0x60);
}

static void dlab_selects_divisor_latch(void **state)
{
    fix_t *x = *state;
    uart_write(x->u, UART_IER, 0x05);
    uart_write(x->u, UART_LCR, 0x83); /* DLAB, 8N1 */
    uart_write(x->u, UART_RBR_THR, 0x01);
    uart_write(x->u, UART_IER, 0x02);
    assert_int_equal(uart_read(x->u, UART_RBR_THR), 0x01);
    assert_int_equal(uart_read(x->u, UART_IER), 0x02);
    assert_int_equal(uart_divisor(x->u), 0x0201);
    assert_string_equal(output(x), ""); /* DLL write is not data */
    uart_write(x->u, UART_LCR, 0x03);
    assert_int_equal(uart_read(x->u, UART_IER), 0x05); /* IER kept its value */
    assert_int_equal(uart_read(x->u, UART_LCR), 0x03);
}

static void scratch_register_holds_a_byte(void **state)
{
    fix_t *x = *state;
    uart_write(x->u, UART_SCR, 0x5a);
    assert_int_equal(uart_read(x->u, UART_SCR), 0x5a);
    uart_write(x->u, UART_SCR, 0xa5);
    assert_int_equal(uart_read(x->u, UART_SCR), 0xa5);
}

static void loopback_returns_data_not_output(void **state)
{
    fix_t *x = *state;
    uart_write(x->u, UART_MCR, 0x10);
    uart_write(x->u, UART_RBR_THR, 0xae);
    assert_string_equal(output(x), "");
    assert_int_equal(uart_read(x->u, UART_LSR) & 1, 1); /* DR */
    assert_int_equal(uart_read(x->u, UART_RBR_THR), 0xae);
    assert_int_equal(uart_read(x->u, UART_LSR) & 1, 0);
}

static void loopback_modem_lines_as_linux_probes(void **state)
{
    fix_t *x = *state;
    /* Linux's 8250 probe: MCR = LOOP|OUT2|RTS must read back DCD|CTS */
    uart_write(x->u, UART_MCR, 0x1a);
    assert_int_equal(uart_read(x->u, UART_MSR) & 0xf0, 0x90);
    uart_write(x->u, UART_MCR, 0x1f);
    assert_int_equal(uart_read(x->u, UART_MSR) & 0xf0, 0xf0);
}

static void msr_delta_bits_latch_and_clear(void **state)
{
    fix_t *x = *state;
    uart_write(x->u, UART_MCR, 0x1f); /* loopback, all outputs on */
    (void)uart_read(x->u, UART_MSR);
    uart_write(x->u, UART_MCR, 0x10); /* all off: CTS, DSR, DCD fall; RI trailing edge */
    assert_int_equal(uart_read(x->u, UART_MSR), 0x0f);
    assert_int_equal(uart_read(x->u, UART_MSR), 0x00);
}

static void overrun_without_fifo(void **state)
{
    fix_t *x = *state;
    uart_write(x->u, UART_MCR, 0x10);
    uart_write(x->u, UART_RBR_THR, 1);
    uart_write(x->u, UART_RBR_THR, 2);
    assert_int_equal(uart_read(x->u, UART_LSR) & 0x03, 0x03); /* DR|OE */
    assert_int_equal(uart_read(x->u, UART_LSR) & 0x02, 0);    /* OE cleared by the read */
    assert_int_equal(uart_read(x->u, UART_RBR_THR), 1);       /* the new byte was lost */
}

static void fifo_holds_sixteen_bytes(void **state)
{
    fix_t *x = *state;
    uart_write(x->u, UART_IIR_FCR, 0x07);
    assert_int_equal(uart_read(x->u, UART_IIR_FCR) & 0xc0, 0xc0);
    uart_write(x->u, UART_MCR, 0x10);
    for (int i = 0; i < 17; i++)
        uart_write(x->u, UART_RBR_THR, (uint8_t)(0x40 + i));
    assert_int_equal(uart_read(x->u, UART_LSR) & 0x02, 0x02);
    for (int i = 0; i < 16; i++)
        assert_int_equal(uart_read(x->u, UART_RBR_THR), 0x40 + i);
    assert_int_equal(uart_read(x->u, UART_LSR) & 1, 0);
}

static void fcr_clears_receive_fifo(void **state)
{
    fix_t *x = *state;
    uart_write(x->u, UART_IIR_FCR, 0x01);
    uart_write(x->u, UART_MCR, 0x10);
    uart_write(x->u, UART_RBR_THR, 9);
    uart_write(x->u, UART_IIR_FCR, 0x03);
    assert_int_equal(uart_read(x->u, UART_LSR) & 1, 0);
}

static void iir_priorities(void **state)
{
    fix_t *x = *state;
    assert_int_equal(uart_read(x->u, UART_IIR_FCR), 0x01); /* nothing pending, no FIFO */
    uart_write(x->u, UART_IER, 0x02);                      /* ETBEI with THR empty */
    assert_int_equal(uart_read(x->u, UART_IIR_FCR), 0x02);
    assert_int_equal(uart_read(x->u, UART_IIR_FCR), 0x01); /* the IIR read cleared THRE */
    uart_write(x->u, UART_RBR_THR, 'x');                   /* transmitted: THR empty again */
    assert_int_equal(uart_read(x->u, UART_IIR_FCR), 0x02);
    uart_write(x->u, UART_IER, 0x0f);
    uart_write(x->u, UART_MCR, 0x10);
    uart_write(x->u, UART_RBR_THR, 1);
    uart_write(x->u, UART_RBR_THR, 2);                     /* overrun */
    assert_int_equal(uart_read(x->u, UART_IIR_FCR), 0x06); /* line status first */
    (void)uart_read(x->u, UART_LSR);
    assert_int_equal(uart_read(x->u, UART_IIR_FCR), 0x04); /* then received data */
    (void)uart_read(x->u, UART_RBR_THR);
    assert_int_equal(uart_read(x->u, UART_IIR_FCR), 0x02); /* then THR empty */
    uart_write(x->u, UART_MCR, 0x11);                      /* DTR -> DSR changes */
    assert_int_equal(uart_read(x->u, UART_IIR_FCR), 0x00); /* then modem status */
    (void)uart_read(x->u, UART_MSR);
    assert_int_equal(uart_read(x->u, UART_IIR_FCR), 0x01);
}

static void fifo_trigger_level(void **state)
{
    fix_t *x = *state;
    uart_write(x->u, UART_IIR_FCR, 0x41); /* FIFO on, trigger 4 */
    uart_write(x->u, UART_IER, 0x01);
    uart_write(x->u, UART_MCR, 0x10);
    for (int i = 0; i < 3; i++)
        uart_write(x->u, UART_RBR_THR, (uint8_t)i);
    assert_int_equal(uart_read(x->u, UART_IIR_FCR), 0xcc); /* below trigger: timeout */
    uart_write(x->u, UART_RBR_THR, 3);
    assert_int_equal(uart_read(x->u, UART_IIR_FCR), 0xc4);
}

static void irq_line_gated_by_out2(void **state)
{
    fix_t *x = *state;
    uart_write(x->u, UART_IER, 0x02);
    assert_false(uart_irq_line(x->u));
    uart_write(x->u, UART_MCR, 0x08);
    assert_true(uart_irq_line(x->u));
    uart_write(x->u, UART_IER, 0x00);
    assert_false(uart_irq_line(x->u));
}

/* ---- through the machine's port bus ---- */

static void ports_on_a_machine(void **state)
{
    fix_t *x = *state;
    machine_t *m = machine_new(16 << 20, NULL, 1);
    assert_non_null(m);
    devices_t *d = devices_attach(m, x->f, NULL);
    assert_non_null(d);
    io_write(m, COM1_BASE, 1, 'S');
    io_write(m, DEBUGCON_PORT, 1, 'E');
    io_write(m, COM1_BASE + UART_SCR, 1, 0x33);
    assert_int_equal(io_read(m, COM1_BASE + UART_SCR, 1), 0x33);
    assert_int_equal(io_read(m, COM1_BASE + UART_LSR, 1) & 0x60, 0x60);
    assert_int_equal(io_read(m, DEBUGCON_PORT, 1), 0xe9);
    assert_string_equal(output(x), "SE");
    assert_int_equal(m->exit_reason, MEXIT_NONE);
    io_write(m, DEBUGEXIT_PORT, 1, 0x21);
    assert_int_equal(m->exit_reason, MEXIT_DEBUG_EXIT);
    assert_int_equal(m->exit_value, 0x21);
    assert_true(m->cpu[0]->stop & STOP_EXIT);
    devices_free(d);
    machine_free(m);
}

/* A word access is two byte accesses: SCR then the port after the UART. */
static uint8_t next_port_byte;
static uint64_t next_rd(void *o, uint16_t port, int size) { return 0xa0 | (port & 0xf); }
static void next_wr(void *o, uint16_t port, int size, uint64_t v) { next_port_byte = (uint8_t)v; }

static void wide_access_splits_into_bytes(void **state)
{
    fix_t *x = *state;
    machine_t *m = machine_new(16 << 20, NULL, 1);
    uart_attach(m, x->u, COM1_BASE);
    io_register(m, COM1_BASE + 8, 1, next_rd, next_wr, NULL);
    io_write(m, COM1_BASE + UART_LCR, 2, 0x0b03); /* LCR = 3, MCR = 0x0b */
    assert_int_equal(uart_read(x->u, UART_LCR), 0x03);
    assert_int_equal(uart_read(x->u, UART_MCR), 0x0b);
    io_write(m, COM1_BASE + UART_SCR, 2, 0x5a77);
    assert_int_equal(uart_read(x->u, UART_SCR), 0x77);
    assert_int_equal(next_port_byte, 0x5a);
    assert_int_equal(io_read(m, COM1_BASE + UART_SCR, 2), 0x0077 | (0xa0 | ((COM1_BASE + 8) & 0xf)) << 8);
    machine_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(thr_writes_reach_output, setup, teardown),
        cmocka_unit_test_setup_teardown(lsr_always_ready_to_send, setup, teardown),
        cmocka_unit_test_setup_teardown(dlab_selects_divisor_latch, setup, teardown),
        cmocka_unit_test_setup_teardown(scratch_register_holds_a_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(loopback_returns_data_not_output, setup, teardown),
        cmocka_unit_test_setup_teardown(loopback_modem_lines_as_linux_probes, setup, teardown),
        cmocka_unit_test_setup_teardown(msr_delta_bits_latch_and_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(overrun_without_fifo, setup, teardown),
        cmocka_unit_test_setup_teardown(fifo_holds_sixteen_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(fcr_clears_receive_fifo, setup, teardown),
        cmocka_unit_test_setup_teardown(iir_priorities, setup, teardown),
        cmocka_unit_test_setup_teardown(fifo_trigger_level, setup, teardown),
        cmocka_unit_test_setup_teardown(irq_line_gated_by_out2, setup, teardown),
        cmocka_unit_test_setup_teardown(ports_on_a_machine, setup, teardown),
        cmocka_unit_test_setup_teardown(wide_access_splits_into_bytes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
