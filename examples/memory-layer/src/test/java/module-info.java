/**
 * The plugin's tests, a module of their own as a third party's would be: they see the plugin
 * and the testkit through their exports alone. Open, so that JUnit reaches the test classes.
 */
open module dev.overlay4j.example.memory.test {
    requires dev.overlay4j.example.memory;
    requires dev.overlay4j.testkit;
}
