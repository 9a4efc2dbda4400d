import java.util.Random;
public class BeamCheck {
  static long mix(long x){ long z = x + 0x9E3779B97F4A7C15L; z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L; z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL; return z ^ (z >>> 31);}
  static String[] ST="AZ,CA,ID,OR,WA,WY".split(","), CI="Phoenix,Los Angeles,San Francisco,Boise,Portland,Bend,Redmond,Seattle,Kent,Cheyenne".split(","),
    FN="Peter,Paul,Luke,John,Saul,Vicky,Kate,Julie,Sarah,Deiter,Walter".split(","), LN="Shultz,Abrams,Spencer,White,Bartels,Walton,Smith,Jones,Noris".split(",");
  static long nextLong(Random r,long n){ return n < Integer.MAX_VALUE ? r.nextInt((int)n) : Math.abs(r.nextLong()%n);}
  static String nextString(Random r,int max){int len=3+r.nextInt(max-3);StringBuilder sb=new StringBuilder();while(len-->0){if(r.nextInt(13)==0)sb.append(' ');else sb.append((char)('a'+r.nextInt(26)));}return sb.toString().trim();}
  static long price(Random r){ return Math.round(Math.pow(10.0, r.nextDouble()*6.0)*100.0);}
  static long lastP(long id){long e=id/50,o=id%50; if(o>=1)o=0; return e+o;}
  static long lastA(long id){long e=id/50,o=id%50; if(o<1){e--;o=2;} else if(o>=4){o=2;} else {o-=1;} return e*3+o;}
  static long nextP(long id,Random r){long n=lastP(id)+1;long a=Math.min(n,1000);return n-a+nextLong(r,a+10);}
  static long nextA(long id,Random r){long mn=Math.max(lastA(id)-100,0);long mx=lastA(id);return mn+nextLong(r,mx-mn+1+10);}
  static long ts(long i){ return 1436918400000L + (i*1000L)/10000000L; }
  public static void main(String[] a){
    long n = Long.parseLong(a[0]);
    StringBuilder out = new StringBuilder();
    for(long id=0; id<n; id++){
      Random r = new Random(mix(id)); long rem=id%50; long t=ts(id);
      if(rem<1){ String name=FN[r.nextInt(11)]+" "+LN[r.nextInt(9)]; String email=nextString(r,7)+"@"+nextString(r,5)+".com";
        StringBuilder cc=new StringBuilder(); for(int i=0;i<4;i++){ if(i>0)cc.append(' '); cc.append(String.format("%04d", r.nextInt(10000)));}
        String city=CI[r.nextInt(10)], st=ST[r.nextInt(6)];
        out.append("P|"+(lastP(id)+1000)+"|"+name+"|"+email+"|"+cc+"|"+city+"|"+st+"|"+t+"\n");
      } else if(rem<4){ long seller; if(r.nextInt(4)>0) seller=(lastP(id)/100)*100; else seller=nextP(id,r); seller+=1000;
        long cat=10+r.nextInt(5); long ib=price(r); long h=ts(id+1666)-t; long exp=t+1+nextLong(r,Math.max(h*2,1L));
        String nm=nextString(r,20), de=nextString(r,100); long res=ib+price(r);
        out.append("A|"+(lastA(id)+1000)+"|"+nm+"|"+de+"|"+ib+"|"+res+"|"+t+"|"+exp+"|"+seller+"|"+cat+"\n");
      } else { long au; if(r.nextInt(2)>0) au=(lastA(id)/100)*100; else au=nextA(id,r); au+=1000;
        long bd; if(r.nextInt(4)>0) bd=(lastP(id)/100)*100+1; else bd=nextP(id,r); bd+=1000;
        long p=price(r); out.append("B|"+au+"|"+bd+"|"+p+"|"+t+"\n"); }
      if (out.length() > 1<<20) { System.out.print(out); out.setLength(0);} }
    System.out.print(out);
  }
}
