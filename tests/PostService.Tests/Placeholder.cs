public class Placeholder { [Fact] public void X() { } }
