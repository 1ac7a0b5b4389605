/** The kernel's version, checked against each plugin's `kernel` range. */
export const KERNEL_VERSION = '0.1.0';
