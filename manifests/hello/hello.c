// SPDX-License-Identifier: GPL-2.0
/* hello: depends on hello_core (a symbol dependency modinfo reports) and prints its greeting. */
#include <linux/init.h>
#include <linux/module.h>

const char *hello_core_greeting(void);

static int __init hello_init(void)
{
	pr_info("hello: %s\n", hello_core_greeting());
	return 0;
}

static void __exit hello_exit(void)
{
	pr_info("hello: bye\n");
}

module_init(hello_init);
module_exit(hello_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmod-sysext example: a module with a dependency");
