// SPDX-License-Identifier: GPL-2.0
/* hello_core: keeps a greeting and exports it to other modules. */
#include <linux/init.h>
#include <linux/module.h>

static char *greeting = "hello from kmod-sysext";
module_param(greeting, charp, 0444);
MODULE_PARM_DESC(greeting, "The greeting hello prints when it loads");

const char *hello_core_greeting(void)
{
	return greeting;
}
EXPORT_SYMBOL_GPL(hello_core_greeting);

static int __init hello_core_init(void)
{
	pr_info("hello_core: ready\n");
	return 0;
}

static void __exit hello_core_exit(void)
{
	pr_info("hello_core: gone\n");
}

module_init(hello_core_init);
module_exit(hello_core_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmod-sysext example: a module others depend on");
